//! `--prometheus ADDR`: the table and the profile since the start, served in the Prometheus
//! text format on a tiny HTTP server (std's `TcpListener`; scrapes are answered one at a
//! time, on one thread of their own).

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use xdpdbg::top::collector::Collector;
use xdpdbg::top::exposition::{CONTENT_TYPE, encode_metrics};

use super::{Args, sample_for};

/// The longest a scrape may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves until a signal (or `--duration`).
pub fn run(
    collector: &mut Collector,
    addr: &str,
    args: &Args,
    stop: &AtomicBool,
) -> anyhow::Result<ExitCode> {
    let listener = TcpListener::bind(addr).with_context(|| {
        format!("cannot listen on {addr} (give HOST:PORT, e.g. 127.0.0.1:9464; port 0 picks one)")
    })?;
    let bound = listener.local_addr()?;
    let metrics = Arc::new(Mutex::new(encode_metrics(
        &collector.refresh()?,
        &collector.report(),
    )));
    {
        let metrics = Arc::clone(&metrics);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                // A scrape that fails (the client went away) does not stop the server.
                let _ = answer(stream, &metrics);
            }
        });
    }
    eprintln!("xdpdbg top: serving Prometheus metrics on http://{bound}/metrics");
    let length = args.duration.unwrap_or(Duration::MAX);
    sample_for(collector, length, args.interval, stop, |c, table| {
        let text = encode_metrics(&table, &c.report());
        if let Ok(mut m) = metrics.lock() {
            *m = text;
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Answers one HTTP request: the metrics on `GET /metrics` (or `/`), 404 otherwise.
fn answer(stream: TcpStream, metrics: &Mutex<String>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Headers, up to the blank line.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, kind, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/metrics" | "/") => (
            "200 OK",
            CONTENT_TYPE,
            metrics.lock().map(|m| m.clone()).unwrap_or_default(),
        ),
        _ => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "xdpdbg top serves GET /metrics\n".to_string(),
        ),
    };
    let mut stream = reader.into_inner();
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}
