//! The aex module SDK for Rust.
//!
//! Safe wrappers over the C ABI of `include/aex/module.h`, and the prelude
//! that AE-style Rust modules use without imports (`success`, `failure`,
//! `Error`, `ResultMessage`, `ResultCode`, `authentic_execution`,
//! `lazy_static!`, `debug!`, `info!`, `warning!`, `error!`). The glue crate
//! that aex-gen writes for a module glob-imports `aex_sdk::prelude` and
//! drives the module's functions through `aex_sdk::glue`.

use std::os::raw::{c_char, c_int};

pub use lazy_static::lazy_static;

/// Largest payload of one event, request, response or entry argument
/// (`AEX_MAX_PAYLOAD`).
pub const MAX_PAYLOAD: usize = 1 << 20;

mod ffi {
    use std::os::raw::{c_char, c_int};

    extern "C" {
        pub fn aex_emit_output(index: u16, data: *const u8, len: usize) -> c_int;
        pub fn aex_issue_request(
            index: u16,
            data: *const u8,
            len: usize,
            resp: *mut u8,
            cap: usize,
            resp_len: *mut usize,
        ) -> c_int;
        pub fn aex_log(fmt: *const c_char, ...);
        pub fn aex_module_id() -> u32;
    }
}

/// Why an output or a request failed (the `AEX_ERR_*` codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No connection is keyed for this output or request.
    NotConnected,
    /// The payload or the response is larger than allowed.
    TooLarge,
    /// The node could not deliver it.
    Transport,
    /// The response did not authenticate.
    Auth,
    /// The deployer disabled the module.
    Disabled,
    /// A code this SDK does not know.
    Other(i32),
}

impl Error {
    fn from_code(code: c_int) -> Error {
        match code {
            -1 => Error::NotConnected,
            -2 => Error::TooLarge,
            -3 => Error::Transport,
            -4 => Error::Auth,
            -5 => Error::Disabled,
            other => Error::Other(other),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NotConnected => write!(f, "not connected"),
            Error::TooLarge => write!(f, "payload too large"),
            Error::Transport => write!(f, "transport error"),
            Error::Auth => write!(f, "response did not authenticate"),
            Error::Disabled => write!(f, "module disabled"),
            Error::Other(code) => write!(f, "error {}", code),
        }
    }
}

impl std::error::Error for Error {}

/// Seals `data` for every connection bound to output `index`. Returns the
/// number of connections it was sent on (0 while none is keyed).
pub fn emit_output(index: u16, data: &[u8]) -> Result<usize, Error> {
    // SAFETY: the runtime reads exactly data.len() bytes from data.
    let rc = unsafe { ffi::aex_emit_output(index, data.as_ptr(), data.len()) };
    if rc < 0 {
        Err(Error::from_code(rc))
    } else {
        Ok(rc as usize)
    }
}

/// Sends a request on the connection bound to request `index` and returns
/// the authenticated response.
pub fn issue_request(index: u16, data: &[u8]) -> Result<Vec<u8>, Error> {
    let mut resp = vec![0u8; MAX_PAYLOAD];
    let mut resp_len: usize = 0;
    // SAFETY: resp has room for resp.len() bytes; the runtime writes at most
    // that many and stores their number in resp_len.
    let rc = unsafe {
        ffi::aex_issue_request(
            index,
            data.as_ptr(),
            data.len(),
            resp.as_mut_ptr(),
            resp.len(),
            &mut resp_len,
        )
    };
    if rc != 0 {
        return Err(Error::from_code(rc));
    }
    if resp_len > resp.len() {
        return Err(Error::TooLarge);
    }
    resp.truncate(resp_len);
    Ok(resp)
}

/// Id the node assigned to this module instance.
pub fn module_id() -> u32 {
    // SAFETY: no arguments, no preconditions.
    unsafe { ffi::aex_module_id() }
}

/// Severity of a log line; the macros below prefix it to the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
}

/// Writes one line to the module's log (not confidential: the node sees
/// it). A NUL byte in `message` ends the line early, as it would in C.
pub fn log(level: Level, message: &str) {
    let tag = match level {
        Level::Debug => "DEBUG",
        Level::Info => "INFO",
        Level::Warning => "WARNING",
        Level::Error => "ERROR",
    };
    let mut line = Vec::with_capacity(tag.len() + message.len() + 3);
    line.extend_from_slice(tag.as_bytes());
    line.extend_from_slice(b": ");
    line.extend(message.bytes().take_while(|&b| b != 0));
    line.push(0);
    // SAFETY: both strings are NUL-terminated; "%s" consumes one argument.
    unsafe { ffi::aex_log(b"%s\0".as_ptr() as *const c_char, line.as_ptr() as *const c_char) };
}

/// Logs only when the module is built with the cargo feature `debug_prints`
/// (descriptor field `features`), as AE modules expect.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if cfg!(feature = "debug_prints") {
            $crate::log($crate::Level::Debug, &format!($($arg)*))
        }
    };
}

#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log($crate::Level::Info, &format!($($arg)*)) };
}

#[macro_export]
macro_rules! warning {
    ($($arg:tt)*) => { $crate::log($crate::Level::Warning, &format!($($arg)*)) };
}

#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log($crate::Level::Error, &format!($($arg)*)) };
}

/// Outcome code of an entry point, the first byte of its response.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultCode {
    Ok = 0,
    IllegalCommand = 1,
    IllegalPayload = 2,
    InternalError = 3,
    BadRequest = 4,
    CryptoError = 5,
    GenericError = 6,
}

/// What an entry point returns: a code and an optional payload. On the wire
/// (`aex call`) it is one byte of code followed by the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultMessage {
    pub code: ResultCode,
    pub payload: Vec<u8>,
}

impl ResultMessage {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.payload.len());
        out.push(self.code as u8);
        out.extend_from_slice(&self.payload);
        out
    }
}

pub fn success(payload: Option<Vec<u8>>) -> ResultMessage {
    ResultMessage { code: ResultCode::Ok, payload: payload.unwrap_or_default() }
}

pub fn failure(code: ResultCode, payload: Option<Vec<u8>>) -> ResultMessage {
    ResultMessage { code, payload: payload.unwrap_or_default() }
}

/// The helpers AE modules call as `authentic_execution::...`. Integers are
/// little-endian on the wire, as on the Sancus and TrustZone modules they
/// talk to. The data_to_* readers panic on a payload shorter than the
/// integer (the glue catches the panic: the event is dropped and logged).
pub mod authentic_execution {
    use std::convert::TryInto;
    use std::time::{SystemTime, UNIX_EPOCH};

    pub fn data_to_u16(data: &[u8]) -> u16 {
        u16::from_le_bytes(data[..2].try_into().expect("2 bytes"))
    }

    pub fn data_to_u32(data: &[u8]) -> u32 {
        u32::from_le_bytes(data[..4].try_into().expect("4 bytes"))
    }

    pub fn data_to_u64(data: &[u8]) -> u64 {
        u64::from_le_bytes(data[..8].try_into().expect("8 bytes"))
    }

    pub fn u16_to_data(value: u16) -> Vec<u8> {
        value.to_le_bytes().to_vec()
    }

    pub fn u32_to_data(value: u32) -> Vec<u8> {
        value.to_le_bytes().to_vec()
    }

    pub fn u64_to_data(value: u64) -> Vec<u8> {
        value.to_le_bytes().to_vec()
    }

    fn since_epoch() -> std::time::Duration {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
    }

    /// Wall-clock time in milliseconds, for timing measurements.
    pub fn measure_time_ms() -> u128 {
        since_epoch().as_millis()
    }

    /// Wall-clock time in microseconds, for timing measurements.
    pub fn measure_time_us() -> u128 {
        since_epoch().as_micros()
    }
}

/// Everything a module's lib.rs sees without imports.
pub mod prelude {
    pub use crate::authentic_execution;
    pub use crate::lazy_static;
    pub use crate::{debug, error, info, warning};
    pub use crate::{failure, success, Error, ResultCode, ResultMessage};
}

/// What the generated glue uses: the C tables of aex_module_desc and the
/// trampolines from the C calling convention to the module's functions.
/// A panic in the module never unwinds into the C runtime.
#[doc(hidden)]
pub mod glue {
    use std::os::raw::c_char;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    #[repr(C)]
    pub struct InputSlot {
        pub name: *const c_char,
        pub f: unsafe extern "C" fn(*const u8, usize),
    }

    #[repr(C)]
    pub struct HandlerSlot {
        pub name: *const c_char,
        pub f: unsafe extern "C" fn(*const u8, usize, *mut u8, usize) -> usize,
    }

    #[repr(transparent)]
    pub struct Name(pub *const c_char);

    /// Same layout as aex_module_desc.
    #[repr(C)]
    pub struct ModuleDesc {
        pub name: *const c_char,
        pub inputs: *const InputSlot,
        pub n_inputs: u16,
        pub outputs: *const Name,
        pub n_outputs: u16,
        pub requests: *const Name,
        pub n_requests: u16,
        pub handlers: *const HandlerSlot,
        pub n_handlers: u16,
        pub entries: *const HandlerSlot,
        pub n_entries: u16,
    }

    // SAFETY: the tables are immutable statics pointing at static strings
    // and functions.
    unsafe impl Sync for InputSlot {}
    unsafe impl Sync for HandlerSlot {}
    unsafe impl Sync for Name {}
    unsafe impl Sync for ModuleDesc {}

    /// REQUIRES: data points to len readable bytes (or len is 0).
    unsafe fn payload<'a>(data: *const u8, len: usize) -> &'a [u8] {
        if len == 0 || data.is_null() {
            &[]
        } else {
            std::slice::from_raw_parts(data, len)
        }
    }

    fn panicked(kind: &str) {
        crate::log(crate::Level::Error, &format!("{} panicked; event dropped", kind));
    }

    /// REQUIRES: data points to len readable bytes.
    pub unsafe fn call_input(data: *const u8, len: usize, f: fn(&[u8])) {
        let input = payload(data, len);
        if catch_unwind(AssertUnwindSafe(|| f(input))).is_err() {
            panicked("input");
        }
    }

    /// Copies `out` to resp; a response larger than cap returns cap + 1,
    /// which the runtime treats as an error (no response is sent).
    unsafe fn respond(out: &[u8], resp: *mut u8, cap: usize) -> usize {
        if out.len() > cap {
            crate::log(crate::Level::Error, "response larger than allowed; not sent");
            return cap.saturating_add(1);
        }
        if !out.is_empty() {
            std::ptr::copy_nonoverlapping(out.as_ptr(), resp, out.len());
        }
        out.len()
    }

    /// REQUIRES: data points to len readable bytes, resp to cap writable ones.
    pub unsafe fn call_handler(
        data: *const u8,
        len: usize,
        resp: *mut u8,
        cap: usize,
        f: fn(&[u8]) -> Vec<u8>,
    ) -> usize {
        let request = payload(data, len);
        match catch_unwind(AssertUnwindSafe(|| f(request))) {
            Ok(out) => respond(&out, resp, cap),
            Err(_) => {
                panicked("handler");
                cap.saturating_add(1)
            }
        }
    }

    /// REQUIRES: data points to len readable bytes, resp to cap writable ones.
    pub unsafe fn call_entry(
        data: *const u8,
        len: usize,
        resp: *mut u8,
        cap: usize,
        f: fn(&[u8]) -> crate::ResultMessage,
    ) -> usize {
        let argument = payload(data, len);
        match catch_unwind(AssertUnwindSafe(|| f(argument))) {
            Ok(result) => respond(&result.to_bytes(), resp, cap),
            Err(_) => {
                panicked("entry");
                cap.saturating_add(1)
            }
        }
    }

    /// An AE output returns nothing: a failure is logged, not returned.
    pub fn output(index: u16, name: &str, data: &[u8]) {
        if let Err(e) = crate::emit_output(index, data) {
            crate::log(crate::Level::Warning, &format!("output {}: {}", name, e));
        }
    }
}
