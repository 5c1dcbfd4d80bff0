// The echo end of the side-by-side benchmark, an AE native module: every
// ping is sent back as a pong; events on recv_blast are counted for the
// throughput figure. bench/ae_compare.sh builds and deploys it.

use std::sync::Mutex;

lazy_static! {
    // [events received, wall clock of the last arrival in us]
    static ref SINK: Mutex<(u32, u64)> = Mutex::new((0, 0));
}

//@ sm_output(send_pong)

//@ sm_input
pub fn recv_ping(data : &[u8]) {
    send_pong(data);
}

//@ sm_input
pub fn recv_blast(_data : &[u8]) {
    let now = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as u64,
        Err(_) => 0,
    };
    let mut sink = SINK.lock().unwrap();
    sink.0 += 1;
    sink.1 = now;
}

// Result: [events received u32][last arrival u64], big endian.
//@ sm_entry
pub fn blast_stats(_data : &[u8]) -> ResultMessage {
    let sink = SINK.lock().unwrap();
    let mut out = sink.0.to_be_bytes().to_vec();
    out.extend_from_slice(&sink.1.to_be_bytes());
    success(Some(out))
}
