//! `GET /v2/admin/backup` on the peer port: asks the state thread for a
//! copy of the data at its applied index (it only copies, as for a
//! snapshot) and streams it as a backup file, encoded on this connection's
//! thread while writes go on. The body is chunked, so its size need not be
//! known first; a download cut short lacks the file's end record, and
//! `-restore` refuses it as truncated.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, bounded};
use log::{info, warn};

use crate::backup::{self, Source};
use crate::httpd::Responder;
use crate::server::requests::PeerRequest;

use super::reply;

/// Answers the request on `out`; `head` (a HEAD request) gets the headers
/// of the copy it would stream, and nothing is encoded.
pub fn stream(
    state: &Sender<PeerRequest>,
    answer_timeout: Duration,
    head: bool,
    out: &mut Responder,
) {
    let (tx, rx) = bounded(1);
    if state.send(PeerRequest::Backup { reply: tx }).is_err() {
        let _ = out.send(reply::internal(0));
        return;
    }
    let source = match rx.recv_timeout(answer_timeout) {
        Ok(source) => source,
        Err(_) => {
            let _ = out.send(reply::internal(0));
            return;
        }
    };
    if out.start_stream(200, headers(&source)).is_err() {
        return;
    }
    if head {
        let _ = out.finish_stream();
        return;
    }
    let started = Instant::now();
    let index = source.key_space.index();
    let written = backup::write(&mut Chunks(&mut *out), &source, &mut |_, _| {});
    // Free the copy before the last chunk: the client may take its time.
    drop(source);
    match written {
        Ok(w) => {
            let _ = out.finish_stream();
            info!(
                "backup at store index {index} sent: {} keys, {} bytes in {} ms",
                w.nodes,
                w.bytes,
                started.elapsed().as_millis()
            );
        }
        // The stream stays unfinished: the client sees it cut.
        Err(e) => warn!("backup at store index {index} cut off: {e}"),
    }
}

fn headers(source: &Source) -> Vec<(String, String)> {
    let index = source.key_space.index().to_string();
    vec![
        ("Content-Type".into(), "application/octet-stream".into()),
        ("X-Etcd-Index".into(), index.clone()),
        ("X-Backup-Index".into(), index.clone()),
        ("X-Raft-Index".into(), source.raft_index.to_string()),
        ("X-Raft-Term".into(), source.raft_term.to_string()),
        (
            "Content-Disposition".into(),
            format!(
                "attachment; filename=\"etcd-{}-{index}.backup\"",
                source.taken_by
            ),
        ),
    ]
}

/// Each write becomes one chunk of the response.
struct Chunks<'a, 'b>(&'a mut Responder<'b>);

impl Write for Chunks<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.send_chunk(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
