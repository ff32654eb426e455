//! Property tests: the chunked decoder and the log-frame demuxer give the
//! same result however their input is split across reads, and report
//! truncation as an error.

use super::{ChunkedDecoder, FrameDemuxer, StreamKind};
use proptest::prelude::*;

fn encode_chunked(chunks: &[Vec<u8>], ext: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chunks.iter().filter(|c| !c.is_empty()) {
        out.extend_from_slice(format!("{:x}", c.len()).as_bytes());
        if ext {
            out.extend_from_slice(b";name=value");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    if ext {
        out.extend_from_slice(b"X-Trailer: yes\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Cuts `bytes` at the given (sorted, deduplicated) positions.
fn split<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut last = 0;
    for p in points {
        out.push(&bytes[last..p]);
        last = p;
    }
    out.push(&bytes[last..]);
    out
}

proptest! {
    #[test]
    fn chunked_decoding_is_independent_of_read_splits(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
        ext in any::<bool>(),
        extra in prop::collection::vec(any::<u8>(), 0..20),
    ) {
        let mut wire = encode_chunked(&chunks, ext);
        let body_len = wire.len();
        wire.extend_from_slice(&extra); // the next response on the connection
        let mut dec = ChunkedDecoder::new();
        let mut out = Vec::new();
        let mut consumed = 0;
        for piece in split(&wire, &cuts) {
            if dec.is_done() { break; }
            let used = dec.decode(piece, &mut out).unwrap();
            consumed += used;
            if used < piece.len() { prop_assert!(dec.is_done()); }
        }
        prop_assert!(dec.is_done());
        prop_assert_eq!(consumed, body_len);
        prop_assert_eq!(out, chunks.concat());
        prop_assert!(dec.finish().is_ok());
    }

    #[test]
    fn a_truncated_chunked_body_is_reported(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..100), 1..6),
        cut in any::<usize>(),
    ) {
        let wire = encode_chunked(&chunks, false);
        let cut = cut % wire.len(); // strictly inside the body
        let mut dec = ChunkedDecoder::new();
        let mut out = Vec::new();
        dec.decode(&wire[..cut], &mut out).unwrap();
        prop_assert!(!dec.is_done());
        prop_assert!(dec.finish().is_err());
    }

    #[test]
    fn frame_demuxing_is_independent_of_read_splits(
        frames in prop::collection::vec((1u8..=2, prop::collection::vec(any::<u8>(), 0..40_000)), 0..6),
        cuts in prop::collection::vec(any::<usize>(), 0..60),
    ) {
        let mut wire = Vec::new();
        let (mut want_out, mut want_err) = (Vec::new(), Vec::new());
        for (stream, payload) in &frames {
            wire.push(*stream);
            wire.extend_from_slice(&[0, 0, 0]);
            wire.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            wire.extend_from_slice(payload);
            if *stream == 1 { want_out.extend_from_slice(payload) } else { want_err.extend_from_slice(payload) }
        }
        let mut demux = FrameDemuxer::new();
        let mut chunks = Vec::new();
        for piece in split(&wire, &cuts) {
            demux.push(piece, &mut chunks).unwrap();
        }
        demux.finish().unwrap();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        for c in chunks {
            match c.stream {
                StreamKind::Stdout => out.extend(c.bytes),
                StreamKind::Stderr => err.extend(c.bytes),
                StreamKind::Stdin => prop_assert!(false, "no stdin frames were sent"),
            }
        }
        prop_assert_eq!(out, want_out);
        prop_assert_eq!(err, want_err);
    }

    #[test]
    fn a_truncated_frame_is_reported(
        payload in prop::collection::vec(any::<u8>(), 1..500),
        cut in any::<usize>(),
    ) {
        let mut wire = vec![1, 0, 0, 0];
        wire.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        wire.extend_from_slice(&payload);
        let cut = 1 + cut % (wire.len() - 1); // at least one byte, not all
        let mut demux = FrameDemuxer::new();
        let mut chunks = Vec::new();
        demux.push(&wire[..cut], &mut chunks).unwrap();
        prop_assert!(demux.finish().is_err());
    }

    #[test]
    fn garbage_frame_headers_are_rejected(
        first in 4u8..=255,
        rest in prop::collection::vec(any::<u8>(), 7..64),
    ) {
        let mut wire = vec![first];
        wire.extend_from_slice(&rest);
        let mut demux = FrameDemuxer::new();
        prop_assert!(demux.push(&wire, &mut Vec::new()).is_err());
    }
}
