//! Incremental decoders for the two framings the daemon streams in: HTTP
//! chunked transfer encoding and the 8-byte-header log multiplexing.
//!
//! Both are pure state machines fed whatever bytes a read returned — a
//! chunk size, a frame header or a payload may be split anywhere across
//! reads — and both report a truncated input as an error instead of a
//! short result.

use std::fmt;

/// Longest chunk-size line accepted (hex digits plus extensions).
const MAX_SIZE_LINE: usize = 1024;
/// Largest chunk accepted (1 TiB: sizes are hex `u64`).
const MAX_CHUNK: u64 = 1 << 40;

/// A framing violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodecError(pub(crate) String);

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CodecError {}

/// Decodes `Transfer-Encoding: chunked`.
#[derive(Debug, Clone)]
pub(crate) struct ChunkedDecoder {
    state: ChunkState,
}

#[derive(Debug, Clone)]
enum ChunkState {
    /// Reading hex digits (`line` counts bytes of the size line).
    Size {
        size: u64,
        digits: usize,
        line: usize,
    },
    /// Skipping a chunk extension until CR.
    Extension {
        size: u64,
        line: usize,
    },
    /// Expecting the LF of the size line.
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// After the last chunk: at the start of a trailer line.
    TrailerStart,
    /// Inside a trailer line, skipping until CR.
    TrailerLine,
    TrailerLf {
        empty: bool,
    },
    Done,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub(crate) fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: ChunkState::Size {
                size: 0,
                digits: 0,
                line: 0,
            },
        }
    }

    /// True once the terminating chunk and trailers have been consumed.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, ChunkState::Done)
    }

    /// Consumes bytes from `input`, appending decoded data to `out`.
    /// Returns how many bytes were consumed (all of them, unless the body
    /// ended inside `input`: the rest belongs to the next response).
    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, CodecError> {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match &mut self.state {
                ChunkState::Size { size, digits, line } => {
                    *line += 1;
                    if *line > MAX_SIZE_LINE {
                        return Err(CodecError("chunk size line too long".into()));
                    }
                    match b {
                        b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                            let d = (b as char).to_digit(16).expect("hex digit") as u64;
                            *size = size
                                .checked_mul(16)
                                .and_then(|s| s.checked_add(d))
                                .filter(|&s| s <= MAX_CHUNK)
                                .ok_or_else(|| CodecError("chunk size too large".into()))?;
                            *digits += 1;
                        }
                        b';' | b' ' | b'\t' if *digits > 0 => {
                            self.state = ChunkState::Extension {
                                size: *size,
                                line: *line,
                            }
                        }
                        b'\r' if *digits > 0 => self.state = ChunkState::SizeLf { size: *size },
                        _ => {
                            return Err(CodecError(format!("invalid byte {b:#04x} in chunk size")))
                        }
                    }
                }
                ChunkState::Extension { size, line } => {
                    *line += 1;
                    if *line > MAX_SIZE_LINE {
                        return Err(CodecError("chunk size line too long".into()));
                    }
                    if b == b'\r' {
                        self.state = ChunkState::SizeLf { size: *size };
                    }
                }
                ChunkState::SizeLf { size } => {
                    if b != b'\n' {
                        return Err(CodecError("chunk size line not ended by CRLF".into()));
                    }
                    self.state = if *size == 0 {
                        ChunkState::TrailerStart
                    } else {
                        ChunkState::Data { left: *size }
                    };
                }
                ChunkState::Data { left } => {
                    let n = (input.len() - i).min(*left as usize);
                    out.extend_from_slice(&input[i..i + n]);
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = ChunkState::DataCr;
                    }
                    i += n;
                    continue;
                }
                ChunkState::DataCr => {
                    if b != b'\r' {
                        return Err(CodecError("chunk data longer than its size".into()));
                    }
                    self.state = ChunkState::DataLf;
                }
                ChunkState::DataLf => {
                    if b != b'\n' {
                        return Err(CodecError("chunk data not ended by CRLF".into()));
                    }
                    self.state = ChunkState::Size {
                        size: 0,
                        digits: 0,
                        line: 0,
                    };
                }
                ChunkState::TrailerStart => {
                    self.state = if b == b'\r' {
                        ChunkState::TrailerLf { empty: true }
                    } else {
                        ChunkState::TrailerLine
                    };
                }
                ChunkState::TrailerLine => {
                    if b == b'\r' {
                        self.state = ChunkState::TrailerLf { empty: false };
                    }
                }
                ChunkState::TrailerLf { empty } => {
                    if b != b'\n' {
                        return Err(CodecError("trailer line not ended by CRLF".into()));
                    }
                    if *empty {
                        self.state = ChunkState::Done;
                        return Ok(i + 1);
                    }
                    self.state = ChunkState::TrailerStart;
                }
                ChunkState::Done => return Ok(i),
            }
            i += 1;
        }
        Ok(i)
    }

    /// To be called at end of input: an unfinished body is a truncation.
    pub(crate) fn finish(&self) -> Result<(), CodecError> {
        if self.is_done() {
            Ok(())
        } else {
            Err(CodecError(
                "chunked body ended before its last chunk".into(),
            ))
        }
    }
}

/// Which output stream a piece of container output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// Standard input (echoed by attach).
    Stdin,
    /// Standard output (or all output of a TTY container).
    Stdout,
    /// Standard error.
    Stderr,
}

/// A piece of container output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogChunk {
    /// Where it came from.
    pub stream: StreamKind,
    /// The bytes; lines may be split across chunks.
    pub bytes: Vec<u8>,
}

/// Demultiplexes the non-TTY log/attach framing: `[stream, 0, 0, 0,
/// len_be32]` headers, each followed by `len` payload bytes.
///
/// Payloads are emitted as they arrive (a 16 KiB frame split over several
/// reads yields several chunks), so memory stays bounded whatever length a
/// header claims.
#[derive(Debug, Clone, Default)]
pub(crate) struct FrameDemuxer {
    header: [u8; 8],
    have: usize,
    left: u32,
    stream: Option<StreamKind>,
}

impl FrameDemuxer {
    /// A demuxer at a frame boundary.
    pub(crate) fn new() -> FrameDemuxer {
        FrameDemuxer::default()
    }

    /// Consumes `input`, appending decoded pieces to `out`.
    pub(crate) fn push(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<LogChunk>,
    ) -> Result<(), CodecError> {
        while !input.is_empty() {
            if self.left == 0 {
                let take = (8 - self.have).min(input.len());
                self.header[self.have..self.have + take].copy_from_slice(&input[..take]);
                self.have += take;
                input = &input[take..];
                if self.have < 8 {
                    break;
                }
                self.have = 0;
                let h = self.header;
                let stream = match h[0] {
                    0 => StreamKind::Stdin,
                    1 => StreamKind::Stdout,
                    // 3 is the daemon's "system error" stream; report it as stderr.
                    2 | 3 => StreamKind::Stderr,
                    x => {
                        return Err(CodecError(format!(
                            "invalid stream byte {x} in frame header"
                        )))
                    }
                };
                if h[1..4] != [0, 0, 0] {
                    return Err(CodecError("invalid frame header padding".into()));
                }
                self.left = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
                self.stream = Some(stream);
                continue;
            }
            let n = (self.left as usize).min(input.len());
            let stream = self.stream.expect("inside a frame");
            match out.last_mut() {
                // Coalesce with the previous piece of the same stream.
                Some(last) if last.stream == stream => last.bytes.extend_from_slice(&input[..n]),
                _ => out.push(LogChunk {
                    stream,
                    bytes: input[..n].to_vec(),
                }),
            }
            self.left -= n as u32;
            input = &input[n..];
        }
        Ok(())
    }

    /// To be called at end of input: a partial header or payload is a
    /// truncation.
    pub(crate) fn finish(&self) -> Result<(), CodecError> {
        if self.have != 0 {
            return Err(CodecError(format!(
                "stream ended inside a frame header ({} of 8 bytes)",
                self.have
            )));
        }
        if self.left != 0 {
            return Err(CodecError(format!(
                "stream ended {} bytes short of the frame its header announced",
                self.left
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
