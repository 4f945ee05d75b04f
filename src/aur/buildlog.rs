//! The log of one package base's build: what git, makepkg and the sandbox
//! print (stdout and stderr in the order written), kept whole in
//! `<cache>/aur/logs/<base>.log` and passed on line by line as it comes (to
//! the terminal, or to the base's progress line when several build at
//! once). Each step is marked in the log with the time it started and
//! ended, so the log says when and how long each build ran.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Where each line goes besides the log file.
pub type Sink = Arc<dyn Fn(&str) + Send + Sync>;

/// One base's log, open for this run.
pub struct BuildLog {
    path: PathBuf,
    file: Arc<Mutex<File>>,
    sink: Mutex<Sink>,
}

/// The directory the build logs are kept in.
pub fn logs_dir(aur_cache: &Path) -> PathBuf {
    aur_cache.join("logs")
}

fn write_line(file: &Mutex<File>, sink: &Sink, text: &str) {
    if let Ok(mut file) = file.lock() {
        let _ = writeln!(file, "{text}");
    }
    // A progress meter redraws with carriage returns: its last state.
    let shown = text.rsplit('\r').find(|s| !s.trim().is_empty());
    sink(shown.unwrap_or(""));
}

fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

impl BuildLog {
    /// Starts `pkgbase`'s log in `dir` (the last run's is replaced).
    pub fn create(dir: &Path, pkgbase: &str, sink: Sink) -> std::io::Result<BuildLog> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{pkgbase}.log"));
        let file = File::create(&path)?;
        Ok(BuildLog {
            path,
            file: Arc::new(Mutex::new(file)),
            sink: Mutex::new(sink),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the lines go from now on, besides the file.
    pub fn set_sink(&self, sink: Sink) {
        if let Ok(mut current) = self.sink.lock() {
            *current = sink;
        }
    }

    fn sink(&self) -> Sink {
        match self.sink.lock() {
            Ok(sink) => sink.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Writes one line to the log and passes it on.
    pub fn line(&self, text: &str) {
        write_line(&self.file, &self.sink(), text);
    }

    /// Runs `command` to its end, its output (both streams, merged) into
    /// the log. The step is marked with the times it started and ended.
    pub fn run(&self, step: &str, mut command: Command) -> std::io::Result<ExitStatus> {
        self.line(&format!("==> omg: {step}: started {}", now()));
        let (reader, writer) = std::io::pipe()?;
        command
            .stdin(Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer);
        let mut child = command.spawn()?;
        // The pipe's write ends are the child's alone now: the reader sees
        // its end when the child and whatever it left running exit.
        drop(command);
        let (file, sink) = (self.file.clone(), self.sink());
        let (done, finished) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(reader);
            let mut buffer = Vec::new();
            while let Ok(1..) = reader.read_until(b'\n', &mut buffer) {
                let text = String::from_utf8_lossy(&buffer);
                write_line(&file, &sink, text.trim_end_matches(['\n', '\r']));
                buffer.clear();
            }
            let _ = done.send(());
        });
        let status = child.wait()?;
        // A process the step left behind may hold the pipe open: its
        // output stops counting a moment after the step ended.
        let _ = finished.recv_timeout(std::time::Duration::from_secs(2));
        self.line(&format!("==> omg: {step}: ended {} ({status})", now()));
        Ok(status)
    }

    /// The log's last `count` lines (what a failed step said last).
    pub fn tail(&self, count: usize) -> String {
        let text = std::fs::read(&self.path).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(count)..].join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_streams_reach_the_log_in_order_and_the_sink_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink_seen = seen.clone();
        let log = BuildLog::create(
            dir.path(),
            "demo",
            Arc::new(move |l: &str| sink_seen.lock().unwrap().push(l.to_string())),
        )
        .unwrap();
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "echo out; echo err >&2; printf '10%%\\r50%%\\r100%%\\n'; exit 3",
        ]);
        let status = log.run("build", command).unwrap();
        assert_eq!(status.code(), Some(3));
        let text = std::fs::read_to_string(dir.path().join("demo.log")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("==> omg: build: started 20"), "{text}");
        assert_eq!(lines[1..4], ["out", "err", "10%\r50%\r100%"]);
        assert!(lines[4].starts_with("==> omg: build: ended"), "{text}");
        assert!(lines[4].contains("exit status: 3"), "{text}");
        assert_eq!(seen.lock().unwrap()[1..4], ["out", "err", "100%"]);
        assert!(log.tail(2).contains("100%") && log.tail(2).contains("ended"));
        // A command that cannot start is an error, not a hang.
        assert!(log.run("x", Command::new("/nonexistent/program")).is_err());
    }
}
