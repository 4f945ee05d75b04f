//! The client end of the protocol: reach a daemon (for now a one-shot
//! `omgd --stdio` child on a pipe), shake hands, send requests and read their
//! responses.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::process::{Child, Command};
use tokio_util::codec::{FramedRead, FramedWrite};

use super::codec::{self, CodecError, frame_codec};
use super::protocol::{
    ClientFrame, Hello, PROTOCOL_VERSION, Request, RequestBody, Response, ResponseBody,
    ServerFrame, WireError,
};
use crate::transaction::{Answer, TxEvent};

/// Why a request got no answer from the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot start the daemon {path}: {source}")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("connection to the daemon failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the daemon sent a message this omg cannot read: {0}")]
    Codec(#[from] CodecError),
    #[error("the daemon closed the connection before answering{}", exit_note(.0))]
    Closed(Option<std::process::ExitStatus>),
    #[error(
        "the daemon speaks protocol {daemon} but this omg speaks {PROTOCOL_VERSION}: restart the daemon (`omg daemon restart`) or reinstall omg"
    )]
    VersionMismatch { daemon: u32 },
    #[error("the daemon answered out of order (expected response {expected}, got {got})")]
    OutOfOrder { expected: u32, got: u32 },
    #[error("{0}")]
    Remote(WireError),
}

fn exit_note(status: &Option<std::process::ExitStatus>) -> String {
    match status {
        Some(s) => format!(" ({s})"),
        None => String::new(),
    }
}

type Reader = FramedRead<Box<dyn AsyncRead + Unpin + Send>, super::codec::FrameCodec>;
type Writer = FramedWrite<Box<dyn AsyncWrite + Unpin + Send>, super::codec::FrameCodec>;

/// What arrives for a streamed request.
#[derive(Debug)]
pub enum Streamed {
    Event(TxEvent),
    Done(Result<ResponseBody, WireError>),
}

/// The client's first frame.
pub(super) fn hello() -> ClientFrame {
    ClientFrame::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        client: format!("omg {}", env!("CARGO_PKG_VERSION")),
    })
}

/// The daemon's name from its answer to `hello`, or why there is no
/// talking to it.
pub(super) fn welcomed(frame: ServerFrame) -> Result<String, ClientError> {
    match frame {
        ServerFrame::Welcome(w) if w.protocol == PROTOCOL_VERSION => Ok(w.daemon),
        ServerFrame::Welcome(w) => Err(ClientError::VersionMismatch { daemon: w.protocol }),
        ServerFrame::Fatal(e) => Err(ClientError::Remote(e)),
        ServerFrame::Response(Response { id: got, .. })
        | ServerFrame::Event { request: got, .. } => {
            Err(ClientError::OutOfOrder { expected: 0, got })
        }
    }
}

/// An open, handshaken connection to a daemon.
pub struct Connection {
    reader: Reader,
    writer: Writer,
    next_id: u32,
    child: Option<Child>,
    /// What the daemon called itself in its `Welcome`.
    pub daemon: String,
}

/// Where `omgd-lite` is: `$OMG_DAEMON_LITE`, else next to the running
/// program; `None` when it is not installed (then `omgd` does everything).
pub fn lite_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("OMG_DAEMON_LITE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    let sibling = exe.parent()?.join("omgd-lite");
    sibling.is_file().then_some(sibling)
}

/// Where the `omgd` executable is: `$OMG_DAEMON`, else next to the running
/// program, else `omgd` on `PATH`.
pub fn daemon_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("OMG_DAEMON") {
        return PathBuf::from(path);
    }
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        let sibling = dir.join("omgd");
        if sibling.is_file() {
            return sibling;
        }
    }
    PathBuf::from("omgd")
}

impl Connection {
    /// Connects to a daemon listening on `path` and shakes hands, giving up
    /// after `timeout` (a daemon that accepts but never answers).
    pub async fn connect_socket(
        path: &Path,
        timeout: std::time::Duration,
    ) -> Result<Connection, ClientError> {
        let attempt = async {
            let stream = tokio::net::UnixStream::connect(path).await?;
            let (read, write) = stream.into_split();
            let mut connection = Connection::over(Box::new(read), Box::new(write));
            connection.handshake().await?;
            Ok(connection)
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("the daemon on {} did not answer", path.display()),
            ))),
        }
    }

    /// Starts `omgd --stdio` and connects to it over its stdin and stdout.
    /// The child's stderr is the caller's, so its warnings reach the user.
    pub async fn spawn_stdio(
        daemon: &Path,
        verbose: bool,
        env: &[(&str, std::ffi::OsString)],
    ) -> Result<Connection, ClientError> {
        let mut command = Command::new(daemon);
        command
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .arg("--stdio");
        if verbose {
            command.arg("--verbose");
        }
        Connection::spawn(command, daemon).await
    }

    /// Runs `command` (an `omgd --stdio`, perhaps behind sudo) and connects
    /// to it over its stdin and stdout; `program` names it in errors.
    pub async fn spawn(mut command: Command, program: &Path) -> Result<Connection, ClientError> {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().map_err(|source| ClientError::Spawn {
            path: program.to_path_buf(),
            source,
        })?;
        let stdin = child.stdin.take().expect("stdin was piped");
        let stdout = child.stdout.take().expect("stdout was piped");
        let mut connection = Connection::over(Box::new(stdout), Box::new(stdin));
        connection.child = Some(child);
        connection.handshake().await?;
        Ok(connection)
    }

    fn over(
        reader: Box<dyn AsyncRead + Unpin + Send>,
        writer: Box<dyn AsyncWrite + Unpin + Send>,
    ) -> Connection {
        Connection {
            reader: FramedRead::new(reader, frame_codec()),
            writer: FramedWrite::new(writer, frame_codec()),
            next_id: 1,
            child: None,
            daemon: String::new(),
        }
    }

    async fn send(&mut self, frame: &ClientFrame) -> Result<(), ClientError> {
        let payload = codec::encode(frame)?;
        self.writer.send(payload).await?;
        Ok(())
    }

    async fn receive(&mut self) -> Result<ServerFrame, ClientError> {
        match self.reader.next().await {
            Some(Ok(payload)) => Ok(codec::decode(&payload)?),
            Some(Err(e)) => Err(ClientError::Io(e)),
            None => Err(ClientError::Closed(self.reap().await)),
        }
    }

    /// If the connection is to a child that has died, its exit status.
    async fn reap(&mut self) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        child.wait().await.ok()
    }

    async fn handshake(&mut self) -> Result<(), ClientError> {
        self.send(&hello()).await?;
        self.daemon = welcomed(self.receive().await?)?;
        Ok(())
    }

    /// Sends one request and waits for its response.
    pub async fn request(&mut self, body: RequestBody) -> Result<ResponseBody, ClientError> {
        let id = self.start(body).await?;
        match self.next(id).await? {
            Streamed::Done(result) => result.map_err(ClientError::Remote),
            Streamed::Event(_) => Err(ClientError::OutOfOrder {
                expected: id,
                got: id,
            }),
        }
    }

    /// Sends a request without waiting for the answer; returns its id.
    pub async fn start(&mut self, body: RequestBody) -> Result<u32, ClientError> {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.send(&ClientFrame::Request(Request { id, body }))
            .await?;
        Ok(id)
    }

    /// The next frame about request `id`: an event of a transaction, or
    /// the final response.
    pub async fn next(&mut self, id: u32) -> Result<Streamed, ClientError> {
        match self.receive().await? {
            ServerFrame::Response(r) if r.id == id => Ok(Streamed::Done(r.result)),
            ServerFrame::Event { request, event } if request == id => Ok(Streamed::Event(event)),
            ServerFrame::Response(Response { id: got, .. })
            | ServerFrame::Event { request: got, .. } => {
                Err(ClientError::OutOfOrder { expected: id, got })
            }
            ServerFrame::Fatal(e) => Err(ClientError::Remote(e)),
            ServerFrame::Welcome(_) => Err(ClientError::OutOfOrder {
                expected: id,
                got: 0,
            }),
        }
    }

    /// Answers question `question` of transaction `request`.
    pub async fn answer(
        &mut self,
        request: u32,
        question: u32,
        answer: Answer,
    ) -> Result<(), ClientError> {
        self.send(&ClientFrame::Answer {
            request,
            question,
            answer,
        })
        .await
    }

    /// Closes the connection. A child daemon sees end-of-file and exits on
    /// its own once it has finished writing anything it was saving; the
    /// caller does not wait for that.
    /// Whether this is a connection to a listening daemon (which hangs up
    /// on a client silent for long) rather than to a child of ours.
    pub fn over_socket(&self) -> bool {
        self.child.is_none()
    }

    pub async fn close(mut self) {
        let _ = SinkExt::<bytes::Bytes>::close(&mut self.writer).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::protocol::{ErrorKind, Response, Welcome};

    async fn serve_frames(server: tokio::io::DuplexStream, replies: Vec<ServerFrame>) {
        let (read, write) = tokio::io::split(server);
        let mut frames = FramedRead::new(read, frame_codec());
        let mut sink = FramedWrite::new(write, frame_codec());
        for reply in replies {
            let _ = frames.next().await;
            sink.send(codec::encode(&reply).unwrap()).await.unwrap();
        }
    }

    fn pair() -> (Connection, tokio::io::DuplexStream) {
        let (client, server) = tokio::io::duplex(1 << 16);
        let (read, write) = tokio::io::split(client);
        (Connection::over(Box::new(read), Box::new(write)), server)
    }

    #[tokio::test]
    async fn version_mismatch_tells_the_user_what_to_do() {
        let (mut connection, server) = pair();
        let welcome = ServerFrame::Welcome(Welcome {
            protocol: PROTOCOL_VERSION + 1,
            daemon: "omgd 9".into(),
        });
        tokio::spawn(serve_frames(server, vec![welcome]));
        let err = connection.handshake().await.unwrap_err();
        assert!(matches!(err, ClientError::VersionMismatch { .. }));
        assert!(err.to_string().contains("restart the daemon"), "{err}");
    }

    #[tokio::test]
    async fn responses_must_match_their_request() {
        let (mut connection, server) = pair();
        let welcome = ServerFrame::Welcome(Welcome {
            protocol: PROTOCOL_VERSION,
            daemon: "omgd test".into(),
        });
        let wrong_id = ServerFrame::Response(Response {
            id: 99,
            result: Err(WireError::new(ErrorKind::Internal, "x")),
        });
        tokio::spawn(serve_frames(server, vec![welcome, wrong_id]));
        connection.handshake().await.unwrap();
        assert_eq!(connection.daemon, "omgd test");
        let err = connection.request(RequestBody::Status).await.unwrap_err();
        assert!(matches!(
            err,
            ClientError::OutOfOrder {
                expected: 1,
                got: 99
            }
        ));
    }

    #[tokio::test]
    async fn a_daemon_that_hangs_up_is_reported() {
        let (mut connection, server) = pair();
        drop(server);
        let err = connection.handshake().await.unwrap_err();
        assert!(
            matches!(err, ClientError::Closed(_) | ClientError::Io(_)),
            "{err:?}"
        );
    }
}
