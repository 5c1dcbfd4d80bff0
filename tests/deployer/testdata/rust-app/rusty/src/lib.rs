// Test fixture: a Rust module that uses every annotation, lazy_static state
// and the log macros, with the prelude aex-gen provides (no imports).
//
//   tick (input, u16 LE) -> double_it (request to the C module) -> total
//   total -> report (output, u32 LE)
//   get_total (handler): the total, u32 LE
//   status (entry): "<MODULE_NAME> total <n>"; IllegalPayload on any argument
use std::sync::Mutex;

lazy_static! {
    static ref TOTAL: Mutex<u32> = Mutex::new(0);
}

/* An annotation in a comment is not one: //@ sm_output(not_an_output) */
const NOT_AN_ANNOTATION: &str = "//@ sm_request(not_a_request)";

//@ sm_output(report)
//@ sm_request(double_it)

//@ sm_input
pub fn tick(data: &[u8]) {
    if data.len() < 2 {
        warning!("tick: {} bytes, expected 2", data.len());
        return;
    }
    let value = authentic_execution::data_to_u16(data);
    debug!("tick {} (debug_prints on)", value);
    let doubled = match double_it(&authentic_execution::u16_to_data(value)) {
        Ok(resp) if resp.len() == 4 => authentic_execution::data_to_u32(&resp),
        Ok(resp) => {
            error!("double_it: {} bytes in the response", resp.len());
            return;
        }
        Err(e) => {
            error!("double_it failed: {}", e);
            return;
        }
    };
    let total = {
        let mut total = TOTAL.lock().unwrap();
        *total += doubled;
        *total
    };
    if cfg!(feature = "measure_time") {
        info!("tick at {} us", authentic_execution::measure_time_us());
    }
    info!("tick {} doubled {} total {}", value, doubled, total);
    report(&authentic_execution::u32_to_data(total));
}

//@ sm_handler
pub fn get_total(_data: &[u8]) -> Vec<u8> {
    authentic_execution::u32_to_data(*TOTAL.lock().unwrap())
}

//@ sm_entry
pub fn status(data: &[u8]) -> ResultMessage {
    if !data.is_empty() {
        return failure(ResultCode::IllegalPayload, None);
    }
    let total = *TOTAL.lock().unwrap();
    success(Some(format!("{} total {} {}", MODULE_NAME, total, NOT_AN_ANNOTATION.len()).into_bytes()))
}
