//! `TxChannel`, the daemon's side of a transaction's conversation: the
//! backend thread sends events and asks questions through it, the
//! connection relays them to the client and its answers back; everything
//! it holds is bounded.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{Answer, Level, Question, Resolved, TxEvent};

/// The daemon's end of a transaction's conversation with its client,
/// shared with the backend thread. Everything it holds is bounded: events
/// wait in a queue of `EVENT_QUEUE` (progress a slow client has not read
/// is dropped), and a question not answered within the question timeout
/// takes the safe answer, so the transaction and its lock are released.
pub struct TxChannel {
    events: tokio::sync::mpsc::Sender<TxEvent>,
    answers: Mutex<std::sync::mpsc::Receiver<(u32, Answer)>>,
    noconfirm: bool,
    next_question: AtomicU32,
    question_timeout: std::time::Duration,
    /// Whether the caller may have PGP keys imported (asked once, when a
    /// key is about to be).
    key_trust: std::sync::OnceLock<KeyTrust>,
    /// The news an upgrade shows before its plan (set by the daemon).
    feed: std::sync::OnceLock<Vec<crate::news::feed::FeedItem>>,
    dropped: AtomicU32,
}

/// Decides whether the caller may accept a PGP key into the package
/// manager's keyring; `true` also makes "yes" the question's default.
pub type KeyTrust = Box<dyn Fn() -> bool + Send + Sync>;

/// Events a transaction may have waiting for its client.
pub const EVENT_QUEUE: usize = 1024;

/// The client's end, held by the connection serving it.
pub struct TxClientSide {
    pub events: tokio::sync::mpsc::Receiver<TxEvent>,
    pub answers: std::sync::mpsc::Sender<(u32, Answer)>,
}

/// How long a question waits for its answer unless told otherwise.
const QUESTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

impl TxChannel {
    pub fn new(noconfirm: bool) -> (TxChannel, TxClientSide) {
        let (events_tx, events_rx) = tokio::sync::mpsc::channel(EVENT_QUEUE);
        let (answers_tx, answers_rx) = std::sync::mpsc::channel();
        (
            TxChannel {
                events: events_tx,
                answers: Mutex::new(answers_rx),
                noconfirm,
                next_question: AtomicU32::new(1),
                question_timeout: QUESTION_TIMEOUT,
                key_trust: std::sync::OnceLock::new(),
                feed: std::sync::OnceLock::new(),
                dropped: AtomicU32::new(0),
            },
            TxClientSide {
                events: events_rx,
                answers: answers_tx,
            },
        )
    }

    /// The same, with questions waiting at most `timeout` for an answer.
    pub fn with_question_timeout(
        noconfirm: bool,
        timeout: std::time::Duration,
    ) -> (TxChannel, TxClientSide) {
        let (mut channel, client) = TxChannel::new(noconfirm);
        channel.question_timeout = timeout;
        (channel, client)
    }

    /// Sets who decides on key imports (the daemon, from the caller).
    pub fn set_key_trust(&self, decide: KeyTrust) {
        let _ = self.key_trust.set(decide);
    }

    /// Whether the caller may have a PGP key imported; nobody may unless
    /// the daemon said how to decide.
    pub fn may_trust_keys(&self) -> bool {
        self.key_trust.get().is_some_and(|decide| decide())
    }

    /// Sets the news an upgrade shows before its plan (the daemon's
    /// Arch news since the last upgrade).
    pub fn set_feed(&self, items: Vec<crate::news::feed::FeedItem>) {
        let _ = self.feed.set(items);
    }

    /// The news to show before the plan; none unless the daemon set it.
    pub fn feed(&self) -> &[crate::news::feed::FeedItem] {
        self.feed.get().map_or(&[], Vec::as_slice)
    }

    /// Reports an event; a client that has gone away is not an error (the
    /// transaction carries on or stops at its next question), and one that
    /// does not read loses progress rather than growing the queue.
    pub fn send(&self, event: TxEvent) {
        if let Err(tokio::sync::mpsc::error::TrySendError::Full(_)) = self.events.try_send(event) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events the client was too slow to take.
    pub fn dropped(&self) -> u32 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn step(&self, text: impl Into<String>) {
        self.send(TxEvent::Step(text.into()));
    }

    pub fn message(&self, level: Level, text: impl Into<String>) {
        self.send(TxEvent::Message {
            level,
            text: text.into(),
        });
    }

    /// Asks the client and waits for the answer. Under `noconfirm` the
    /// default applies without asking. A client that has hung up, cannot
    /// take the question or does not answer in time gets the safe answer:
    /// no to yes/no questions, nothing picked from a list (a pick-one
    /// question takes its default, which libalpm needs).
    pub fn ask(&self, question: Question) -> Resolved {
        if self.noconfirm {
            let resolved = question.resolve(&Answer::Default);
            self.message(Level::Info, describe_default(&question, &resolved));
            return resolved;
        }
        let id = self.next_question.fetch_add(1, Ordering::Relaxed);
        let safe = || match &question {
            Question::YesNo { .. } => Resolved::Bool(false),
            Question::Choose { default, .. } => Resolved::One(*default as usize),
            Question::ChooseMany { .. } => Resolved::Many(Vec::new()),
        };
        if self
            .events
            .try_send(TxEvent::Question {
                id,
                question: question.clone(),
            })
            .is_err()
        {
            return safe();
        }
        let answers = match self.answers.lock() {
            Ok(a) => a,
            Err(_) => return safe(),
        };
        let deadline = std::time::Instant::now() + self.question_timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match answers.recv_timeout(left) {
                Ok((got, answer)) if got == id => return question.resolve(&answer),
                // An answer to an earlier question, arriving late.
                Ok(_) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    self.message(
                        Level::Warning,
                        format!(
                            "no answer within {} s: taking the safe answer",
                            self.question_timeout.as_secs()
                        ),
                    );
                    return safe();
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return safe(),
            }
        }
    }

    /// Asks a yes/no question.
    pub fn confirm(&self, prompt: impl Into<String>, default: bool) -> bool {
        matches!(
            self.ask(Question::YesNo {
                prompt: prompt.into(),
                default,
            }),
            Resolved::Bool(true)
        )
    }
}

/// What `--noconfirm` answered, for the user to see.
fn describe_default(question: &Question, resolved: &Resolved) -> String {
    match (question, resolved) {
        (Question::YesNo { prompt, .. }, Resolved::Bool(b)) => {
            format!("{prompt} [{}]", if *b { "yes" } else { "no" })
        }
        (
            Question::Choose {
                prompt, options, ..
            },
            Resolved::One(i),
        ) => format!("{prompt} [{}]", options.get(*i).map_or("?", String::as_str)),
        (Question::ChooseMany { prompt, .. }, _) => format!("{prompt} [all]"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_that_do_not_fit_take_the_default() {
        let choose = Question::Choose {
            prompt: "provider".into(),
            options: vec!["a".into(), "b".into()],
            default: 0,
        };
        assert_eq!(choose.resolve(&Answer::Pick(1)), Resolved::One(1));
        assert_eq!(choose.resolve(&Answer::Pick(7)), Resolved::One(0));
        assert_eq!(choose.resolve(&Answer::Yes), Resolved::One(0));
        let yes_no = Question::YesNo {
            prompt: "proceed?".into(),
            default: false,
        };
        assert_eq!(yes_no.resolve(&Answer::Default), Resolved::Bool(false));
        assert_eq!(yes_no.resolve(&Answer::Yes), Resolved::Bool(true));
        let many = Question::ChooseMany {
            prompt: "members".into(),
            options: vec!["a".into(), "b".into(), "c".into()],
        };
        assert_eq!(
            many.resolve(&Answer::Default),
            Resolved::Many(vec![0, 1, 2])
        );
        assert_eq!(
            many.resolve(&Answer::PickMany(vec![2, 0, 9, 2])),
            Resolved::Many(vec![0, 2])
        );
    }

    #[test]
    fn a_client_that_hung_up_gets_the_safe_answer() {
        let (channel, client) = TxChannel::new(false);
        drop(client);
        assert!(!channel.confirm("Proceed with installation?", true));
    }

    #[test]
    fn an_unanswered_question_takes_the_safe_answer_in_time() {
        let (channel, client) =
            TxChannel::with_question_timeout(false, std::time::Duration::from_millis(200));
        let started = std::time::Instant::now();
        assert!(!channel.confirm("Proceed?", true));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        drop(client);
    }

    #[test]
    fn a_client_that_does_not_read_costs_a_bounded_queue() {
        let (channel, client) = TxChannel::new(false);
        for i in 0..(EVENT_QUEUE as u32 + 500) {
            channel.step(format!("step {i}"));
        }
        assert_eq!(channel.dropped(), 500);
        // A question that cannot be delivered is not waited for.
        assert!(!channel.confirm("Proceed?", true));
        drop(client);
    }

    #[test]
    fn keys_are_trusted_only_when_the_daemon_says_so() {
        let (channel, _client) = TxChannel::new(true);
        assert!(!channel.may_trust_keys());
        channel.set_key_trust(Box::new(|| true));
        assert!(channel.may_trust_keys());
    }

    #[test]
    fn answers_reach_the_question_they_name() {
        let (channel, mut client) = TxChannel::new(false);
        let asker = std::thread::spawn(move || channel.confirm("Proceed?", false));
        let Some(TxEvent::Question { id, .. }) = client.events.blocking_recv() else {
            panic!("expected a question");
        };
        client.answers.send((id + 100, Answer::No)).unwrap();
        client.answers.send((id, Answer::Yes)).unwrap();
        assert!(asker.join().unwrap());
    }
}
