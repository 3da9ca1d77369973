//! Fault injection on a byte [`Channel`]: [`FaultyChannel`] wraps the gate's end of the line and
//! damages traffic in both directions, driven by a seeded RNG so a failing run can be replayed
//! (as far as the timing of the traffic itself repeats).
//!
//! Frames are cut at the COBS delimiter `0x00`. Per frame, in each direction: drop it
//! (`drop_rate`), send it twice (`duplicate_rate`), hold it back for `delay` (`delay_rate`; frames
//! keep their order, later ones wait behind a delayed one). Per byte: corrupt it
//! (`corrupt_rate`, XOR with a random non-zero value, so a delimiter can vanish or appear, as on
//! a real line). Incoming bytes are passed on once their frame is complete. A [`FaultHandle`]
//! pulls the cable (everything is silently lost while disconnected) and reads the counters.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Channel;

/// Fault rates, each a probability in `0.0..=1.0`, applied independently in both directions.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    pub seed: u64,
    /// Per byte.
    pub corrupt_rate: f64,
    /// Per frame.
    pub drop_rate: f64,
    /// Per frame (a frame not dropped).
    pub duplicate_rate: f64,
    /// Per frame: held back for `delay`.
    pub delay_rate: f64,
    pub delay: Duration,
}

impl Default for FaultConfig {
    /// No faults at all.
    fn default() -> Self {
        FaultConfig {
            seed: 0,
            corrupt_rate: 0.0,
            drop_rate: 0.0,
            duplicate_rate: 0.0,
            delay_rate: 0.0,
            delay: Duration::from_millis(50),
        }
    }
}

/// Counters over both directions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Frames seen (before faults).
    pub frames: u64,
    pub frames_dropped: u64,
    pub frames_duplicated: u64,
    pub frames_delayed: u64,
    pub bytes_corrupted: u64,
    /// Frames lost because the line was disconnected.
    pub frames_lost_disconnected: u64,
}

#[derive(Debug, Default)]
struct Shared {
    disconnected: AtomicBool,
    frames: AtomicU64,
    frames_dropped: AtomicU64,
    frames_duplicated: AtomicU64,
    frames_delayed: AtomicU64,
    bytes_corrupted: AtomicU64,
    frames_lost_disconnected: AtomicU64,
}

/// Controls a [`FaultyChannel`] from another thread.
#[derive(Debug, Clone)]
pub struct FaultHandle(Arc<Shared>);

impl FaultHandle {
    /// Pulls (`false`) or plugs back (`true`) the cable: while disconnected all bytes are lost.
    pub fn set_connected(&self, connected: bool) {
        self.0.disconnected.store(!connected, Ordering::SeqCst);
    }

    pub fn stats(&self) -> FaultStats {
        let s = &self.0;
        FaultStats {
            frames: s.frames.load(Ordering::Relaxed),
            frames_dropped: s.frames_dropped.load(Ordering::Relaxed),
            frames_duplicated: s.frames_duplicated.load(Ordering::Relaxed),
            frames_delayed: s.frames_delayed.load(Ordering::Relaxed),
            bytes_corrupted: s.bytes_corrupted.load(Ordering::Relaxed),
            frames_lost_disconnected: s.frames_lost_disconnected.load(Ordering::Relaxed),
        }
    }
}

/// One direction: bytes of the frame being cut, and frames waiting for their release time.
#[derive(Debug, Default)]
struct Direction {
    partial: Vec<u8>,
    ready: VecDeque<(Instant, Vec<u8>)>,
}

/// A [`Channel`] that damages what passes through it; see the module docs.
#[derive(Debug)]
pub struct FaultyChannel<C> {
    inner: C,
    config: FaultConfig,
    rng: StdRng,
    shared: Arc<Shared>,
    incoming: Direction,
    outgoing: Direction,
}

impl<C: Channel> FaultyChannel<C> {
    pub fn new(inner: C, config: FaultConfig) -> FaultyChannel<C> {
        FaultyChannel {
            inner,
            rng: StdRng::seed_from_u64(config.seed),
            config,
            shared: Arc::default(),
            incoming: Direction::default(),
            outgoing: Direction::default(),
        }
    }

    pub fn handle(&self) -> FaultHandle {
        FaultHandle(self.shared.clone())
    }

    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// Cuts `bytes` into frames and queues what survives, damaged, in `dir`.
    fn feed(&mut self, outgoing: bool, bytes: &[u8], now: Instant) {
        let dir = if outgoing { &mut self.outgoing } else { &mut self.incoming };
        let mut frames = Vec::new();
        for &b in bytes {
            dir.partial.push(b);
            if b == 0 {
                frames.push(std::mem::take(&mut dir.partial));
            }
        }
        for frame in frames {
            self.fault_frame(outgoing, frame, now);
        }
    }

    fn fault_frame(&mut self, outgoing: bool, frame: Vec<u8>, now: Instant) {
        let s = &self.shared;
        let c = &self.config;
        s.frames.fetch_add(1, Ordering::Relaxed);
        if s.disconnected.load(Ordering::SeqCst) {
            s.frames_lost_disconnected.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.rng.random_bool(c.drop_rate) {
            s.frames_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let copies = if self.rng.random_bool(c.duplicate_rate) {
            s.frames_duplicated.fetch_add(1, Ordering::Relaxed);
            2
        } else {
            1
        };
        let mut release = now;
        if self.rng.random_bool(c.delay_rate) {
            s.frames_delayed.fetch_add(1, Ordering::Relaxed);
            release = now + c.delay;
        }
        let dir = if outgoing { &mut self.outgoing } else { &mut self.incoming };
        // Keep the order: nothing overtakes a delayed frame.
        if let Some((last, _)) = dir.ready.back() {
            release = release.max(*last);
        }
        for _ in 0..copies {
            let mut copy = frame.clone();
            for b in &mut copy {
                if self.rng.random_bool(c.corrupt_rate) {
                    *b ^= self.rng.random_range(1..=255u8);
                    s.bytes_corrupted.fetch_add(1, Ordering::Relaxed);
                }
            }
            dir.ready.push_back((release, copy));
        }
    }

    /// Writes the outgoing frames that are due.
    fn flush_outgoing(&mut self, now: Instant) -> io::Result<()> {
        let mut bytes = Vec::new();
        while let Some((at, _)) = self.outgoing.ready.front()
            && *at <= now
        {
            if let Some((_, frame)) = self.outgoing.ready.pop_front() {
                bytes.extend_from_slice(&frame);
            }
        }
        if bytes.is_empty() { Ok(()) } else { self.inner.write_all_bytes(&bytes) }
    }

    /// Moves due incoming frames into `buf` (whole frames only, unless one alone is too big).
    fn take_incoming(&mut self, buf: &mut [u8], now: Instant) -> usize {
        let mut n = 0;
        while let Some((at, frame)) = self.incoming.ready.front_mut()
            && *at <= now
        {
            let room = buf.len() - n;
            if frame.len() <= room {
                buf[n..n + frame.len()].copy_from_slice(frame);
                n += frame.len();
                self.incoming.ready.pop_front();
            } else {
                if n == 0 {
                    buf.copy_from_slice(&frame[..room]);
                    frame.drain(..room);
                    n = room;
                }
                break;
            }
        }
        n
    }
}

impl<C: Channel> Channel for FaultyChannel<C> {
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let deadline = Instant::now() + timeout;
        let mut raw = [0u8; 512];
        loop {
            let now = Instant::now();
            self.flush_outgoing(now)?;
            let n = self.take_incoming(buf, now);
            if n > 0 {
                return Ok(n);
            }
            // Wait for the line, but not past the next delayed frame in either direction.
            let mut until = deadline;
            for dir in [&self.incoming, &self.outgoing] {
                if let Some((at, _)) = dir.ready.front() {
                    until = until.min(*at);
                }
            }
            let got = self.inner.read_timeout(&mut raw, until.saturating_duration_since(now))?;
            let now = Instant::now();
            self.feed(false, &raw[..got], now);
            if got == 0 && now >= deadline {
                self.flush_outgoing(now)?;
                return Ok(self.take_incoming(buf, now));
            }
        }
    }

    fn write_all_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        let now = Instant::now();
        self.feed(true, bytes, now);
        self.flush_outgoing(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback: what is written is recorded; reads come from `input`.
    #[derive(Debug, Default)]
    struct Mem {
        input: VecDeque<u8>,
        written: Vec<u8>,
    }

    impl Channel for Mem {
        fn read_timeout(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<usize> {
            let n = buf.len().min(self.input.len());
            for (i, b) in self.input.drain(..n).enumerate() {
                buf[i] = b;
            }
            Ok(n)
        }

        fn write_all_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
            self.written.extend_from_slice(bytes);
            Ok(())
        }
    }

    /// `count` frames of 19 bytes `[i, 1..=17, 0]`.
    fn frames(count: usize) -> Vec<u8> {
        (0..count).flat_map(|i| std::iter::once((i % 200 + 1) as u8).chain(1..=17).chain([0])).collect()
    }

    fn write_through(config: FaultConfig, bytes: &[u8]) -> (Vec<u8>, FaultStats) {
        let mut ch = FaultyChannel::new(Mem::default(), config);
        // In odd pieces: frames are cut at the delimiter, not at write boundaries.
        for chunk in bytes.chunks(7) {
            ch.write_all_bytes(chunk).unwrap();
        }
        (ch.inner().written.clone(), ch.handle().stats())
    }

    #[test]
    fn no_faults_passes_everything_unchanged() {
        let bytes = frames(100);
        let (out, stats) = write_through(FaultConfig::default(), &bytes);
        assert_eq!(out, bytes);
        assert_eq!(stats.frames, 100);
        assert_eq!(stats, FaultStats { frames: 100, ..FaultStats::default() });
    }

    #[test]
    fn drops_whole_frames_at_about_the_rate() {
        let bytes = frames(10_000);
        let config = FaultConfig { seed: 1, drop_rate: 0.1, ..FaultConfig::default() };
        let (out, stats) = write_through(config, &bytes);
        assert!((800..1200).contains(&stats.frames_dropped), "{stats:?}");
        // What is left is whole, undamaged frames.
        assert_eq!(out.len() as u64, (10_000 - stats.frames_dropped) * 19);
        assert!(out.chunks(19).all(|f| f[1..] == frames(1)[1..]));
    }

    #[test]
    fn corrupts_bytes_at_about_the_rate_and_same_seed_same_damage() {
        let bytes = frames(1000);
        let config = FaultConfig { seed: 7, corrupt_rate: 0.01, ..FaultConfig::default() };
        let (out, stats) = write_through(config.clone(), &bytes);
        assert_eq!(out.len(), bytes.len());
        let differing = out.iter().zip(&bytes).filter(|(a, b)| a != b).count() as u64;
        assert_eq!(differing, stats.bytes_corrupted);
        assert!((120..280).contains(&differing), "{differing}");
        assert_eq!(write_through(config, &bytes).0, out);
    }

    #[test]
    fn duplicates_frames() {
        let bytes = frames(1000);
        let config = FaultConfig { seed: 3, duplicate_rate: 0.05, ..FaultConfig::default() };
        let (out, stats) = write_through(config, &bytes);
        assert!((20..80).contains(&stats.frames_duplicated), "{stats:?}");
        assert_eq!(out.len() as u64, (1000 + stats.frames_duplicated) * 19);
    }

    #[test]
    fn delays_incoming_frames_in_order_and_only_whole_frames_are_read() {
        let mut mem = Mem::default();
        mem.input.extend(frames(3));
        mem.input.extend([5, 6]); // an unfinished frame stays back
        let delay = Duration::from_millis(30);
        let config = FaultConfig { delay_rate: 1.0, delay, ..FaultConfig::default() };
        let mut ch = FaultyChannel::new(mem, config);
        let mut buf = [0u8; 512];
        let start = Instant::now();
        assert_eq!(ch.read_timeout(&mut buf, Duration::ZERO).unwrap(), 0);
        let mut got = Vec::new();
        while start.elapsed() < Duration::from_millis(500) && got.len() < 57 {
            let n = ch.read_timeout(&mut buf, Duration::from_millis(5)).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert!(start.elapsed() >= delay);
        assert_eq!(got, frames(3));
        assert_eq!(ch.handle().stats().frames_delayed, 3);
    }

    #[test]
    fn disconnected_line_loses_everything_until_reconnected() {
        let mut ch = FaultyChannel::new(Mem::default(), FaultConfig::default());
        let handle = ch.handle();
        handle.set_connected(false);
        ch.write_all_bytes(&frames(2)).unwrap();
        ch.inner.input.extend(frames(1));
        let mut buf = [0u8; 64];
        assert_eq!(ch.read_timeout(&mut buf, Duration::ZERO).unwrap(), 0);
        assert!(ch.inner().written.is_empty());
        handle.set_connected(true);
        ch.write_all_bytes(&frames(1)).unwrap();
        assert_eq!(ch.inner().written, frames(1));
        assert_eq!(handle.stats().frames_lost_disconnected, 3);
    }
}
