//! A small HTTP/1.1 server on 127.0.0.1 for tests that stand in for an
//! upstream (the AUR, …): each connection gets one answer from a handler.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The decoded path, without the query.
    pub path: String,
    /// The decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body (for POST), as long as Content-Length says.
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn args(&self, key: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// What to answer.
pub enum Reply {
    /// A status, a content type and a body.
    Body(u16, &'static str, Vec<u8>),
    /// Accept, read the request, and never answer.
    Hang,
    /// These bytes as they are (a head and perhaps a short body), then
    /// hang up.
    Raw(Vec<u8>),
}

impl Reply {
    pub fn json(body: impl Into<Vec<u8>>) -> Reply {
        Reply::Body(200, "application/json", body.into())
    }

    pub fn not_found() -> Reply {
        Reply::Body(404, "text/plain", b"not found".to_vec())
    }
}

pub struct HttpServer {
    pub url: String,
    /// Requests answered (or hung) so far.
    pub hits: Arc<AtomicUsize>,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl HttpServer {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handler = Arc::new(handler);
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let handler = handler.clone();
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    // The rest of the head.
                    let mut headers = Vec::new();
                    loop {
                        let mut header = String::new();
                        match reader.read_line(&mut header) {
                            Ok(0) | Err(_) => break,
                            Ok(_) if header == "\r\n" || header == "\n" => break,
                            Ok(_) => {
                                if let Some((k, v)) = header.split_once(':') {
                                    headers.push((k.trim().to_lowercase(), v.trim().to_string()));
                                }
                            }
                        }
                    }
                    let length: usize = headers
                        .iter()
                        .find(|(k, _)| k == "content-length")
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    if length > 0 && std::io::Read::read_exact(&mut reader, &mut body).is_err() {
                        return;
                    }
                    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                    let request = Request {
                        path: decode(path),
                        query: query
                            .split('&')
                            .filter(|p| !p.is_empty())
                            .map(|p| {
                                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                                (decode(k), decode(v))
                            })
                            .collect(),
                        headers,
                        body,
                    };
                    counter.fetch_add(1, Ordering::SeqCst);
                    match handler(&request) {
                        Reply::Hang => std::thread::sleep(std::time::Duration::from_secs(60)),
                        Reply::Raw(bytes) => {
                            let _ = stream.write_all(&bytes);
                        }
                        Reply::Body(status, kind, body) => {
                            let head = format!(
                                "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            );
                            let _ = stream.write_all(head.as_bytes());
                            let _ = stream.write_all(&body);
                        }
                    }
                });
            }
        });
        HttpServer { url, hits }
    }
}

/// A server of files by path (an upstream's static tree): anything not
/// put there is a 404.
pub struct FileServer {
    pub server: HttpServer,
    files: Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>>,
}

impl FileServer {
    pub fn start() -> FileServer {
        let files: Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>> =
            Arc::default();
        let shared = files.clone();
        let server =
            HttpServer::start(
                move |request| match shared.lock().unwrap().get(&request.path) {
                    Some(body) => Reply::Body(200, "application/octet-stream", body.clone()),
                    None => Reply::not_found(),
                },
            );
        FileServer { server, files }
    }

    pub fn url(&self) -> &str {
        &self.server.url
    }

    pub fn put(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_string(), body.into());
    }

    pub fn remove(&self, path: &str) {
        self.files.lock().unwrap().remove(path);
    }
}
