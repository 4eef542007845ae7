//! The write-ahead log itself: opening (recovery), appending, syncing,
//! rotating segments, and saving snapshots with the pruning they allow.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::error::WalError;
use super::fsync::fsync_dir;
use super::payload::{self, ENTRY_OVERHEAD, Record};
use super::preallocate;
use super::record::{HEADER_LEN, MAX_PAYLOAD, RecordType, append_frame};
use super::replay::Replay;
use super::segment_name::{SegmentName, list_segments};
use super::segment_scan::scan_segment;
use super::snapshot_file;
use super::{Recovered, WalOptions};
use crate::raft::types::{Entry, HardState, Index, Snapshot, SnapshotMeta};

/// Write buffer in front of the current segment; a sync flushes it.
const WRITE_BUFFER: usize = 256 * 1024;

/// What the writer remembers about a segment on disk.
#[derive(Debug)]
struct Segment {
    name: SegmentName,
    path: PathBuf,
    /// The highest index of a live entry in it (0 if none): entries before
    /// a snapshot marker are dead and do not count. The segment may be
    /// removed once a kept snapshot covers this index.
    max_live_index: Index,
}

/// The open write-ahead log. One writer per data directory.
#[derive(Debug)]
pub struct Wal {
    wal_dir: PathBuf,
    snap_dir: PathBuf,
    opts: WalOptions,
    /// Oldest first; the last one is being appended to.
    segments: Vec<Segment>,
    out: BufWriter<File>,
    /// Bytes in the current segment, buffered ones included.
    out_len: u64,
    last_index: Index,
    /// The newest hard state written: copied into each new segment so the
    /// current segment always holds it and older segments can be removed.
    hard_state: HardState,
    /// Reused framing buffer.
    frame: Vec<u8>,
}

fn create_dir(path: &Path) -> io::Result<()> {
    if !path.is_dir() {
        fs::create_dir_all(path)?;
        // A relative name like `data` has the empty path as its parent.
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        fsync_dir(parent)?;
    }
    Ok(())
}

impl Wal {
    /// Opens (creating if missing) `<dir>/wal` and `<dir>/snap`, recovers
    /// their contents, cuts a torn tail off, and readies the log for
    /// appending after the last recovered entry.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<(Wal, Recovered), WalError> {
        let wal_dir = dir.join("wal");
        let snap_dir = dir.join("snap");
        create_dir(dir)?;
        create_dir(&wal_dir)?;
        create_dir(&snap_dir)?;
        snapshot_file::remove_temp_files(&snap_dir)?;
        let snapshot = snapshot_file::load_newest_valid(&snap_dir)?;

        let found = list_segments(&wal_dir)?;
        let mut segments = Vec::with_capacity(found.len());
        let mut replay = Replay::new();
        let mut truncated_tail = None;
        // Where the last segment's records end (preallocated zeros follow).
        let mut data_len = 0;
        for (i, (name, path)) in found.iter().enumerate() {
            if let Some(prev) = segments.last().map(|s: &Segment| s.name.seq)
                && name.seq != prev + 1
            {
                return Err(WalError::Corrupt {
                    file: path.clone(),
                    offset: 0,
                    reason: format!("segment {} is missing before it", prev + 1),
                });
            }
            let is_last = i + 1 == found.len();
            let bytes = fs::read(path)?;
            let scanned = scan_segment(path, &bytes, is_last)?;
            drop(bytes);
            data_len = scanned.data_len;
            if let Some(cut) = scanned.torn_at {
                cut_torn_tail(path, cut)?;
                log::warn!("cut a torn write off {} at offset {cut}", path.display());
                truncated_tail = Some((path.clone(), cut));
            }
            let mut max_live_index = 0;
            for record in scanned.records {
                match &record {
                    Record::Entry(e) => max_live_index = max_live_index.max(e.index),
                    Record::SnapshotMarker { .. } => {
                        max_live_index = 0;
                        segments
                            .iter_mut()
                            .for_each(|s: &mut Segment| s.max_live_index = 0);
                    }
                    Record::HardState(_) => {}
                }
                replay.apply(record);
            }
            segments.push(Segment {
                name: *name,
                path: path.clone(),
                max_live_index,
            });
        }

        let (hard_state, entries) = replay.finish(snapshot.as_ref().map(|s| &s.meta));
        let last_index = entries
            .last()
            .map(|e| e.index)
            .or(snapshot.as_ref().map(|s| s.meta.index))
            .unwrap_or(0);

        let (out, out_len) = match segments.last() {
            Some(current) => {
                let mut file = OpenOptions::new().write(true).open(&current.path)?;
                file.seek(SeekFrom::Start(data_len))?;
                if opts.preallocate {
                    // Cut back after a torn write, or written before
                    // preallocation: reserve the rest again.
                    let len = file.metadata()?.len();
                    reserve(&file, &current.path, len, opts.segment_bytes)?;
                }
                (file, data_len)
            }
            None => {
                let name = SegmentName {
                    seq: 1,
                    first_index: last_index + 1,
                };
                let path = wal_dir.join(name.file_name());
                let file = create_segment_file(&path, &wal_dir, &opts)?;
                segments.push(Segment {
                    name,
                    path,
                    max_live_index: 0,
                });
                (file, 0)
            }
        };

        let mut wal = Wal {
            wal_dir,
            snap_dir,
            opts,
            segments,
            out: BufWriter::with_capacity(WRITE_BUFFER, out),
            out_len,
            last_index,
            hard_state,
            frame: Vec::new(),
        };
        if hard_state != HardState::default() {
            // The current segment must hold the newest hard state before any
            // older segment may be removed; after a torn tail it may not.
            wal.write_hard_state_record(&hard_state)?;
            wal.sync()?;
        }
        let recovered = Recovered {
            hard_state,
            snapshot,
            entries,
            truncated_tail,
        };
        Ok((wal, recovered))
    }

    /// Buffers `entries` (and then `hard_state`) for writing; nothing is
    /// durable until [`Wal::sync`]. An entry at or below the last appended
    /// index truncates the log from there, as recovery replays in order.
    /// Crossing the segment size rotates to a new segment, which fsyncs
    /// the finished one. After an error the log must not be used further.
    pub fn append(&mut self, entries: &[Entry], hard_state: Option<&HardState>) -> io::Result<()> {
        for entry in entries {
            if entry.data.len() > MAX_PAYLOAD - ENTRY_OVERHEAD {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("entry {} is larger than a record may be", entry.index),
                ));
            }
            let mut frame = std::mem::take(&mut self.frame);
            frame.clear();
            append_frame(&mut frame, RecordType::Entry, |b| {
                payload::encode_entry(b, entry)
            });
            let written = self.write_frame(&frame);
            self.frame = frame;
            written?;
            if let Some(current) = self.segments.last_mut() {
                current.max_live_index = current.max_live_index.max(entry.index);
            }
            self.last_index = entry.index;
        }
        if let Some(hs) = hard_state {
            self.write_hard_state_record(hs)?;
        }
        Ok(())
    }

    /// Hands everything appended so far to the kernel without waiting for
    /// the disk: it survives the process (kill -9), not a power loss. For
    /// records Raft does not need durable (a hard state that only moves the
    /// commit index, which a restarted member learns again from its leader).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The newest hard state appended (durable or not).
    pub fn hard_state(&self) -> HardState {
        self.hard_state
    }

    /// Makes everything appended so far durable: flush, then fdatasync of
    /// the current segment (earlier segments were synced when rotated out).
    pub fn sync(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }

    /// Saves `snap` durably as a snapshot file. With `reset_log` (a snapshot
    /// installed from the leader) a marker record follows, synced, so
    /// recovery drops every entry written before it; without it (local
    /// compaction) later entries stay. Then keeps the newest two snapshot
    /// files and removes segments the older of them covers entirely, so a
    /// fallback to that older snapshot still finds its log.
    pub fn save_snapshot(&mut self, snap: &Snapshot, reset_log: bool) -> io::Result<()> {
        snapshot_file::write(&self.snap_dir, snap)?;
        if reset_log {
            let mut frame = Vec::with_capacity(HEADER_LEN + 16);
            append_frame(&mut frame, RecordType::SnapshotMarker, |b| {
                payload::encode_snapshot_marker(b, snap.meta.index, snap.meta.term)
            });
            self.write_frame(&frame)?;
            self.segments.iter_mut().for_each(|s| s.max_live_index = 0);
            self.last_index = snap.meta.index;
        }
        self.compact_to(&snap.meta)
    }

    /// Compaction after a snapshot file of this machine's own state was
    /// written elsewhere (`snapshot_file::write`): make the log durable,
    /// keep the newest snapshots and drop the segments they cover.
    pub fn compact_to(&mut self, snap: &SnapshotMeta) -> io::Result<()> {
        self.last_index = self.last_index.max(snap.index);
        // Before removing anything, the current segment (which holds the
        // newest hard state and any marker) must be durable.
        self.sync()?;
        let kept = snapshot_file::prune(&self.snap_dir)?;
        let covered = kept.first().map_or(0, |oldest| oldest.index);
        self.remove_segments_covered_by(covered)
    }

    /// The index of the last entry appended (or of the snapshot the log
    /// was reset to); 0 for an empty log.
    pub fn last_index(&self) -> Index {
        self.last_index
    }

    fn write_hard_state_record(&mut self, hs: &HardState) -> io::Result<()> {
        let mut frame = Vec::with_capacity(HEADER_LEN + 24);
        append_frame(&mut frame, RecordType::HardState, |b| {
            payload::encode_hard_state(b, hs)
        });
        self.write_frame(&frame)?;
        self.hard_state = *hs;
        Ok(())
    }

    fn write_frame(&mut self, frame: &[u8]) -> io::Result<()> {
        let len = frame.len() as u64;
        if self.out_len > 0 && self.out_len + len > self.opts.segment_bytes {
            self.rotate()?;
        }
        self.out.write_all(frame)?;
        self.out_len += len;
        Ok(())
    }

    /// Finishes the current segment durably, then starts the next one with
    /// the newest hard state in it. Syncing first means only the last
    /// segment can ever have a torn tail.
    fn rotate(&mut self) -> io::Result<()> {
        self.sync()?;
        let seq = self.segments.last().map_or(0, |s| s.name.seq) + 1;
        let name = SegmentName {
            seq,
            first_index: self.last_index + 1,
        };
        let path = self.wal_dir.join(name.file_name());
        let file = create_segment_file(&path, &self.wal_dir, &self.opts)?;
        self.out = BufWriter::with_capacity(WRITE_BUFFER, file);
        self.out_len = 0;
        self.segments.push(Segment {
            name,
            path,
            max_live_index: 0,
        });
        if self.hard_state != HardState::default() {
            let mut frame = Vec::with_capacity(HEADER_LEN + 24);
            append_frame(&mut frame, RecordType::HardState, |b| {
                payload::encode_hard_state(b, &self.hard_state)
            });
            self.out.write_all(&frame)?;
            self.out_len += frame.len() as u64;
        }
        Ok(())
    }

    /// Removes the oldest segments, never the current one, while every live
    /// entry in them is at or below `covered`. Only a prefix goes, so what
    /// remains still replays in the original order.
    fn remove_segments_covered_by(&mut self, covered: Index) -> io::Result<()> {
        let removable = self.segments[..self.segments.len().saturating_sub(1)]
            .iter()
            .take_while(|s| s.max_live_index <= covered)
            .count();
        if removable == 0 {
            return Ok(());
        }
        for segment in self.segments.drain(..removable) {
            fs::remove_file(&segment.path)?;
        }
        fsync_dir(&self.wal_dir)
    }
}

/// A new, empty segment (its whole size reserved with `preallocate`),
/// written from its start.
fn create_segment_file(path: &Path, wal_dir: &Path, opts: &WalOptions) -> io::Result<File> {
    let file = OpenOptions::new().write(true).create_new(true).open(path)?;
    if opts.preallocate {
        reserve(&file, path, 0, opts.segment_bytes)?;
    }
    fsync_dir(wal_dir)?;
    Ok(file)
}

/// Reserves `[from, to)` of a segment and commits the reservation now, so
/// that the first write's fdatasync does not pay for it. A filesystem that
/// cannot reserve space, or has none left to reserve, leaves the segment
/// to grow as it is written (a full disk then fails the write itself).
fn reserve(file: &File, path: &Path, from: u64, to: u64) -> io::Result<()> {
    if from >= to {
        return Ok(());
    }
    match preallocate::reserve(file, from, to) {
        Ok(true) => file.sync_all(),
        Ok(false) => Ok(()),
        Err(e) => {
            log::warn!(
                "cannot reserve {} bytes for {}: {e}",
                to - from,
                path.display()
            );
            Ok(())
        }
    }
}

fn cut_torn_tail(path: &Path, at: u64) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(at)?;
    file.sync_all()
}
