// The echo end of the side-by-side benchmark, an AE native module: every
// ping is sent back as a pong. bench/ae_compare.sh builds and deploys it.

//@ sm_output(send_pong)

//@ sm_input
pub fn recv_ping(data : &[u8]) {
    send_pong(data);
}
