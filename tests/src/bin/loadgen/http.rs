//! Just enough HTTP/1.1 for the load benchmark's pupils: one keep-alive
//! connection each, requests written in one piece, responses read by
//! `Content-Length` or chunks, and gzip accepted and undone as a browser does.
//! A general-purpose client spends several times the CPU per request, and on a
//! small machine that CPU is taken from the server being measured.

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Longest a request may take before it counts as an error.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Where requests go: the server's address and `Host` header.
#[derive(Clone)]
pub struct Target {
    addr: SocketAddr,
    host: String,
    gzip: bool,
}

impl Target {
    /// Resolves `http://host:port` (a path after it is ignored).
    pub async fn resolve(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("{url}: only http:// URLs are supported"))?;
        let host = rest.split('/').next().unwrap_or(rest).to_owned();
        let with_port = if host.contains(':') {
            host.clone()
        } else {
            format!("{host}:80")
        };
        let addr = tokio::net::lookup_host(&with_port)
            .await
            .with_context(|| format!("resolving {host}"))?
            .next()
            .ok_or_else(|| anyhow!("{host} has no address"))?;
        Ok(Self {
            addr,
            host,
            gzip: true,
        })
    }

    /// Whether requests say `Accept-Encoding: gzip`, as every browser does
    /// (the default), so the server compresses what it can.
    pub fn accepting_gzip(mut self, gzip: bool) -> Self {
        self.gzip = gzip;
        self
    }
}

/// One response, with the headers the pupils act on.
pub struct Response {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

/// One keep-alive connection, opened on first use and again after the server
/// closes it.
pub struct Connection {
    target: Target,
    stream: Option<BufReader<TcpStream>>,
    request: Vec<u8>,
    line: Vec<u8>,
}

impl Connection {
    pub fn new(target: Target) -> Self {
        Self {
            target,
            stream: None,
            request: Vec::with_capacity(1024),
            line: Vec::with_capacity(256),
        }
    }

    pub async fn get(&mut self, path: &str, cookie: Option<&str>) -> anyhow::Result<Response> {
        self.send("GET", path, cookie, None).await
    }

    pub async fn post(
        &mut self,
        path: &str,
        cookie: Option<&str>,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<Response> {
        let body = form(fields);
        self.send("POST", path, cookie, Some(&body)).await
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        body: Option<&str>,
    ) -> anyhow::Result<Response> {
        self.request.clear();
        let request = &mut self.request;
        request.extend_from_slice(method.as_bytes());
        request.push(b' ');
        request.extend_from_slice(path.as_bytes());
        request.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        request.extend_from_slice(self.target.host.as_bytes());
        request.extend_from_slice(b"\r\n");
        if self.target.gzip {
            request.extend_from_slice(b"Accept-Encoding: gzip\r\n");
        }
        if let Some(cookie) = cookie {
            request.extend_from_slice(b"Cookie: ");
            request.extend_from_slice(cookie.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        if let Some(body) = body {
            request.extend_from_slice(
                format!(
                    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            request.extend_from_slice(body.as_bytes());
        } else {
            request.extend_from_slice(b"\r\n");
        }
        match tokio::time::timeout(TIMEOUT, self.exchange()).await {
            Ok(result) => result,
            Err(_) => {
                self.stream = None;
                bail!("{method} {path}: no response in {} s", TIMEOUT.as_secs())
            }
        }
    }

    /// Writes the request and reads the response. A connection the server
    /// closed while idle is opened again once, before anything was read.
    async fn exchange(&mut self) -> anyhow::Result<Response> {
        let reused = self.stream.is_some();
        match self.try_exchange().await {
            Ok(response) => Ok(response),
            Err(Failure::BeforeResponse(_)) if reused => {
                self.stream = None;
                self.try_exchange().await.map_err(Failure::into_error)
            }
            Err(failure) => {
                self.stream = None;
                Err(failure.into_error())
            }
        }
    }

    async fn try_exchange(&mut self) -> Result<Response, Failure> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.target.addr)
                .await
                .map_err(|e| Failure::During(anyhow!("connecting: {e}")))?;
            stream
                .set_nodelay(true)
                .map_err(|e| Failure::During(e.into()))?;
            self.stream = Some(BufReader::with_capacity(16 * 1024, stream));
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(Failure::During(anyhow!("no connection")));
        };
        if let Err(e) = stream.get_mut().write_all(&self.request).await {
            return Err(Failure::BeforeResponse(e.into()));
        }
        self.line.clear();
        match stream.read_until(b'\n', &mut self.line).await {
            Ok(0) => return Err(Failure::BeforeResponse(anyhow!("connection closed"))),
            Ok(_) => {}
            Err(e) => return Err(Failure::BeforeResponse(e.into())),
        }
        read_response(stream, &mut self.line)
            .await
            .map_err(Failure::During)
            .map(|(response, keep)| {
                if !keep {
                    self.stream = None;
                }
                response
            })
    }
}

enum Failure {
    /// Nothing of a response was read: safe to send again on a new connection.
    BeforeResponse(anyhow::Error),
    During(anyhow::Error),
}

impl Failure {
    fn into_error(self) -> anyhow::Error {
        match self {
            Failure::BeforeResponse(e) | Failure::During(e) => e,
        }
    }
}

/// Reads the rest of a response whose status line is in `line`; also says
/// whether the connection may be used again.
async fn read_response(
    stream: &mut BufReader<TcpStream>,
    line: &mut Vec<u8>,
) -> anyhow::Result<(Response, bool)> {
    let status_line = std::str::from_utf8(line).context("status line is not UTF-8")?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line {status_line:?}"))?;
    let mut location = None;
    let mut set_cookies = Vec::new();
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut gzipped = false;
    let mut keep = true;
    loop {
        line.clear();
        if stream.read_until(b'\n', line).await? == 0 {
            bail!("connection closed in the headers");
        }
        let text = std::str::from_utf8(line).context("header is not UTF-8")?;
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            break;
        }
        let Some((name, value)) = text.split_once(':') else {
            bail!("bad header {text:?}");
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().context("bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-encoding") {
            gzipped = value.eq_ignore_ascii_case("gzip");
        } else if name.eq_ignore_ascii_case("location") {
            location = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("set-cookie") {
            set_cookies.push(value.to_owned());
        } else if name.eq_ignore_ascii_case("connection") {
            keep = !value.eq_ignore_ascii_case("close");
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            stream.read_until(b'\n', line).await?;
            let size_text = std::str::from_utf8(line)?.trim();
            let size_text = size_text.split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size_text, 16)
                .with_context(|| format!("bad chunk size {size_text:?}"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    line.clear();
                    if stream.read_until(b'\n', line).await? <= 2 {
                        break;
                    }
                }
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            stream.read_exact(&mut body[start..]).await?;
            let mut crlf = [0u8; 2];
            stream.read_exact(&mut crlf).await?;
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        stream.read_exact(&mut body).await?;
    } else if status != 204 && status != 304 && !(100..200).contains(&status) {
        stream.read_to_end(&mut body).await?;
        keep = false;
    }
    if gzipped {
        let mut plain = Vec::with_capacity(body.len() * 4);
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut plain)
            .context("undoing gzip")?;
        body = plain;
    }
    let body = String::from_utf8(body)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok((
        Response {
            status,
            location,
            set_cookies,
            body,
        },
        keep,
    ))
}

/// `application/x-www-form-urlencoded`, as a browser sends a form.
pub fn form(fields: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(fields.iter().map(|(n, v)| n.len() + v.len() + 2).sum());
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, name);
        out.push('=');
        encode_into(&mut out, value);
    }
    out
}

fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 15)]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::form;

    #[test]
    fn forms_are_encoded_as_browsers_encode_them() {
        assert_eq!(
            form(&[("a b", "x&y=z"), ("q_1", "é/+")]),
            "a+b=x%26y%3Dz&q_1=%C3%A9%2F%2B"
        );
    }
}
