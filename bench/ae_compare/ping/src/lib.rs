// The timing end of the side-by-side benchmark, written as an AE native
// module (rust-sgx-gen's annotations): `start` sends the first ping, every
// pong that comes back is timed and answered with the next ping, `results`
// reports how far the run is and the round trips measured so far.
// bench/ae_compare.sh generates, builds and deploys it; not part of aex.

use std::sync::Mutex;
use std::time::Instant;

struct Run {
    warmup: u32,
    total: u32,
    done: u32,
    sent_at: Option<Instant>,
    samples_ns: Vec<u32>,
}

lazy_static! {
    static ref RUN: Mutex<Run> = Mutex::new(Run {
        warmup: 0, total: 0, done: 0, sent_at: None, samples_ns: Vec::new()
    });
}

// Results travel in one AE result message (u16 length): 8 + 4 * 16380 bytes.
const MAX_SAMPLES: u32 = 16380;

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

//@ sm_output(send_ping)

// Args: [warmup u32][measured u32][payload size u32], big endian.
//@ sm_entry
pub fn start(data : &[u8]) -> ResultMessage {
    if data.len() != 12 || be32(&data[4..8]) > MAX_SAMPLES || be32(&data[8..12]) > 1024 {
        return failure(ResultCode::IllegalPayload, None);
    }
    let payload = vec![0x5au8; be32(&data[8..12]) as usize];
    {
        let mut r = RUN.lock().unwrap();
        r.warmup = be32(&data[0..4]);
        r.total = be32(&data[4..8]);
        r.done = 0;
        r.samples_ns = Vec::with_capacity(r.total as usize);
        r.sent_at = Some(Instant::now());
    }
    send_ping(&payload);
    success(None)
}

//@ sm_input
pub fn recv_pong(data : &[u8]) {
    let mut r = RUN.lock().unwrap();
    let sent_at = match r.sent_at {
        Some(t) => t,
        None => return,
    };
    let ns = std::cmp::min(sent_at.elapsed().as_nanos(), u32::MAX as u128) as u32;
    r.done += 1;
    if r.done > r.warmup {
        r.samples_ns.push(ns);
    }
    if r.done < r.warmup + r.total {
        r.sent_at = Some(Instant::now());
        drop(r);
        send_ping(data);
    } else {
        r.sent_at = None;
    }
}

// Result: [round trips done u32][samples u32][each sample in ns u32], big
// endian; the samples only once the run is over, so that polling stays cheap
// for the module while it is timing.
//@ sm_entry
pub fn results(_data : &[u8]) -> ResultMessage {
    let r = RUN.lock().unwrap();
    let over = r.done >= r.warmup + r.total;
    let samples: &[u32] = if over { &r.samples_ns } else { &[] };
    let mut out = Vec::with_capacity(8 + 4 * samples.len());
    out.extend_from_slice(&r.done.to_be_bytes());
    out.extend_from_slice(&(samples.len() as u32).to_be_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_be_bytes());
    }
    success(Some(out))
}

fn unix_us() -> u64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as u64,
        Err(_) => 0,
    }
}

//@ sm_output(send_blast)

// Throughput: sends [count u32] 64-byte events on send_blast in a loop.
// Result: [first send u64][last send returned u64], wall clock in us (the
// receiver stamps arrivals with the same clock, on the same machine).
//@ sm_entry
pub fn blast(data : &[u8]) -> ResultMessage {
    if data.len() != 4 {
        return failure(ResultCode::IllegalPayload, None);
    }
    let payload = [0xa5u8; 64];
    let first = unix_us();
    for _ in 0..be32(data) {
        send_blast(&payload);
    }
    let mut out = first.to_be_bytes().to_vec();
    out.extend_from_slice(&unix_us().to_be_bytes());
    success(Some(out))
}
