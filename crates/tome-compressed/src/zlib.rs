//! A safe wrapper over the few zlib calls random access needs and `flate2` does not expose:
//! `inflate` with `Z_BLOCK` (stop at each deflate block boundary, where a restart point can
//! be taken), `inflatePrime` (feed the bits of a byte a block starts inside) and
//! `inflateSetDictionary` (give a restarted raw inflater the 32 KiB of output before the
//! point). The implementation is zlib-rs (Rust) behind its C ABI (`libz-rs-sys`): no C code
//! is built.
//!
//! The stream is boxed: zlib keeps a pointer back to it, so it must not move once initialised.

use std::ffi::c_int;

use libz_rs_sys as z;

/// `windowBits` for a gzip member (header and trailer checked; 32 KiB window).
pub const GZIP: c_int = 15 + 16;
/// `windowBits` for a raw deflate stream (no header: used from a restart point).
pub const RAW: c_int = -15;
/// The deflate window: the most any back-reference reaches.
pub const WINDOW: usize = 32 << 10;

/// What one `inflate` call did.
pub struct Step {
    /// zlib's return code (`Z_OK`, `Z_STREAM_END`, `Z_BUF_ERROR`, or an error).
    pub code: c_int,
    /// Input bytes consumed.
    pub consumed: usize,
    /// Output bytes written.
    pub produced: usize,
    /// zlib's `data_type`: bit 7 set at the end of a deflate block, bit 6 at the end of the
    /// last one, bits 0-2 the unused bits of the last input byte consumed.
    pub data_type: c_int,
}

/// An inflate stream (gzip or raw deflate). Costs ~40 KiB while alive (zlib's state and
/// window).
pub struct Inflater {
    strm: Box<z::z_stream>,
}

// SAFETY: the stream owns its state (allocated by zlib-rs with the Rust allocator) and holds
// no pointer to anything outside it between calls (`next_in`/`next_out` are set again before
// each call), so moving it to another thread is sound; it is not `Sync` (calls take `&mut`).
unsafe impl Send for Inflater {}

impl Inflater {
    /// A new stream with `window_bits` ([`GZIP`] or [`RAW`]).
    pub fn new(window_bits: c_int) -> Result<Inflater, String> {
        let mut strm = Box::new(z::z_stream::default());
        // SAFETY: `strm` is a valid, zeroed stream (no allocator given: zlib-rs uses its own);
        // the version string and size are zlib-rs' own, as `inflateInit2` passes them.
        let code = unsafe {
            z::inflateInit2_(
                &mut *strm,
                window_bits,
                z::zlibVersion(),
                std::mem::size_of::<z::z_stream>() as c_int,
            )
        };
        if code != z::Z_OK {
            return Err(format!("cannot start an inflater (zlib code {code})"));
        }
        Ok(Inflater { strm })
    }

    /// Starts over with `window_bits`, keeping the allocations (a new gzip member).
    pub fn reset(&mut self, window_bits: c_int) -> Result<(), String> {
        // SAFETY: the stream was initialised by `new` and not ended.
        let code = unsafe { z::inflateReset2(&mut *self.strm, window_bits) };
        if code != z::Z_OK {
            return Err(format!("cannot reset the inflater (zlib code {code})"));
        }
        Ok(())
    }

    /// Feeds `bits` (1-7) bits of `value` before the next input (a block that starts inside
    /// a byte).
    pub fn prime(&mut self, bits: u8, value: u8) -> Result<(), String> {
        // SAFETY: the stream was initialised by `new` and not ended.
        let code =
            unsafe { z::inflatePrime(&mut *self.strm, c_int::from(bits), c_int::from(value)) };
        if code != z::Z_OK {
            return Err(format!("cannot prime the inflater (zlib code {code})"));
        }
        Ok(())
    }

    /// Sets the window a raw stream's back-references reach into.
    pub fn set_dictionary(&mut self, dict: &[u8]) -> Result<(), String> {
        // SAFETY: the stream was initialised by `new`; `dict` is valid for its length (at
        // most 32 KiB, so it fits a `c_uint`) and only read during the call.
        let code =
            unsafe { z::inflateSetDictionary(&mut *self.strm, dict.as_ptr(), dict.len() as u32) };
        if code != z::Z_OK {
            return Err(format!("cannot set the window (zlib code {code})"));
        }
        Ok(())
    }

    /// Inflates from `input` into `output` with `flush` (`Z_NO_FLUSH` or `Z_BLOCK`).
    pub fn inflate(&mut self, input: &[u8], output: &mut [u8], flush: c_int) -> Step {
        let in_len = input.len().min(u32::MAX as usize);
        let out_len = output.len().min(u32::MAX as usize);
        self.strm.next_in = input.as_ptr();
        self.strm.avail_in = in_len as u32;
        self.strm.next_out = output.as_mut_ptr();
        self.strm.avail_out = out_len as u32;
        // SAFETY: the stream was initialised by `new`; `next_in`/`avail_in` describe `input`
        // (read only) and `next_out`/`avail_out` describe `output`, both borrowed for the
        // whole call; the pointers are cleared before returning.
        let code = unsafe { z::inflate(&mut *self.strm, flush) };
        let step = Step {
            code,
            consumed: in_len - self.strm.avail_in as usize,
            produced: out_len - self.strm.avail_out as usize,
            data_type: self.strm.data_type,
        };
        self.strm.next_in = std::ptr::null();
        self.strm.avail_in = 0;
        self.strm.next_out = std::ptr::null_mut();
        self.strm.avail_out = 0;
        step
    }

    /// zlib's message for the last error, if any.
    pub fn message(&self) -> Option<String> {
        if self.strm.msg.is_null() {
            return None;
        }
        // SAFETY: a non-null `msg` points to a static NUL-terminated string of zlib's.
        let msg = unsafe { std::ffi::CStr::from_ptr(self.strm.msg) };
        Some(msg.to_string_lossy().into_owned())
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: the stream was initialised by `new` and is ended once, here.
        unsafe {
            z::inflateEnd(&mut *self.strm);
        }
    }
}

/// Compresses a window for storage (zlib level 1: a log's 32 KiB window shrinks ~5-10×).
pub fn pack(window: &[u8]) -> Box<[u8]> {
    let mut out = vec![0u8; window.len() + window.len() / 1000 + 64];
    let mut out_len = out.len() as std::ffi::c_ulong;
    // SAFETY: `out` is writable for `out_len` bytes (more than compressBound for 32 KiB);
    // `window` is readable for its length; both outlive the call.
    let code = unsafe {
        z::compress2(
            out.as_mut_ptr(),
            &mut out_len,
            window.as_ptr(),
            window.len() as std::ffi::c_ulong,
            1,
        )
    };
    if code != z::Z_OK {
        // Cannot happen with a large enough buffer; store it raw, flagged by a leading 0.
        let mut raw = Vec::with_capacity(window.len() + 1);
        raw.push(0);
        raw.extend_from_slice(window);
        return raw.into_boxed_slice();
    }
    out.truncate(out_len as usize);
    let mut packed = Vec::with_capacity(out.len() + 1);
    packed.push(1);
    packed.extend_from_slice(&out);
    packed.into_boxed_slice()
}

/// The window [`pack`] stored.
pub fn unpack(packed: &[u8]) -> Result<Vec<u8>, String> {
    match packed.split_first() {
        Some((0, raw)) => Ok(raw.to_vec()),
        Some((1, data)) => {
            let mut out = vec![0u8; WINDOW];
            let mut out_len = out.len() as std::ffi::c_ulong;
            // SAFETY: `out` is writable for `out_len` bytes, `data` readable for its length.
            let code = unsafe {
                z::uncompress(
                    out.as_mut_ptr(),
                    &mut out_len,
                    data.as_ptr(),
                    data.len() as std::ffi::c_ulong,
                )
            };
            if code != z::Z_OK {
                return Err(format!("a stored window is damaged (zlib code {code})"));
            }
            out.truncate(out_len as usize);
            Ok(out)
        }
        _ => Err("a stored window is damaged".into()),
    }
}
