//! The C API entry points with fuzzed strings, lengths and NULLs: init
//! from a fuzzed configuration, then poll over a link that delivers the
//! fuzzer's bytes, interleaved with report, publish, respond and parse
//! calls whose pointers and lengths come from the input.
#![no_main]

use core::ffi::{c_char, c_void};
use libfuzzer_sys::fuzz_target;
use nimbus::ffi::*;
use nimbus_fuzz::Input;
use std::ffi::CString;

struct Link {
    incoming: Vec<u8>,
    pos: usize,
    /// The port's store: record id -> bytes; writes are torn (half kept)
    /// while `tear` is set, as by a power cut.
    store: std::collections::BTreeMap<u16, Vec<u8>>,
    tear: bool,
}

extern "C" fn store_read(ctx: *mut c_void, id: u16, buf: *mut u8, cap: usize) -> i32 {
    // SAFETY: ctx is this target's `Link`; `buf` is valid for `cap` bytes.
    let (link, out) = unsafe {
        (
            &mut *ctx.cast::<Link>(),
            core::slice::from_raw_parts_mut(buf, cap),
        )
    };
    match link.store.get(&id) {
        None => 0,
        Some(r) if r.len() > cap => -3,
        Some(r) => {
            out[..r.len()].copy_from_slice(r);
            r.len() as i32
        }
    }
}

extern "C" fn store_write(ctx: *mut c_void, id: u16, data: *const u8, len: usize) -> i32 {
    // SAFETY: ctx is this target's `Link`; `data` is valid for `len` bytes.
    let (link, data) = unsafe {
        (
            &mut *ctx.cast::<Link>(),
            core::slice::from_raw_parts(data, len),
        )
    };
    let kept = if link.tear { &data[..len / 2] } else { data };
    link.store.insert(id, kept.to_vec());
    0
}

extern "C" fn open(_: *mut c_void) -> i32 {
    1
}

extern "C" fn send(_: *mut c_void, _: *const u8, len: usize) -> i32 {
    len.min(512) as i32
}

extern "C" fn recv(ctx: *mut c_void, buf: *mut u8, len: usize) -> i32 {
    // SAFETY: ctx is the `Link` this target passed in, alive for the run,
    // and `buf` is valid for `len` bytes (the C transport contract).
    let (link, out) = unsafe {
        (
            &mut *ctx.cast::<Link>(),
            core::slice::from_raw_parts_mut(buf, len),
        )
    };
    let n = (link.incoming.len() - link.pos).min(len).min(97);
    out[..n].copy_from_slice(&link.incoming[link.pos..link.pos + n]);
    link.pos += n;
    n as i32
}

extern "C" fn close(_: *mut c_void) {}

extern "C" fn read_sensor(_: *mut c_void, _id: u16, mantissa: *mut i64, decimals: *mut u8) -> i32 {
    // SAFETY: the core passes valid out pointers.
    unsafe {
        *mantissa = 215;
        *decimals = 1;
    }
    0
}

extern "C" fn random(_: *mut c_void) -> u32 {
    4
}

/// A C string from the input (interior NULs end it), or NULL.
fn text(input: &mut Input<'_>, keep: &mut Vec<CString>) -> *const c_char {
    let raw = input.bytes(40);
    if raw.first() == Some(&0xff) {
        return core::ptr::null();
    }
    let s = CString::new(raw.split(|&b| b == 0).next().unwrap_or(&[])).unwrap();
    keep.push(s);
    keep.last().unwrap().as_ptr()
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut keep = Vec::new();
    let mut memory = vec![0u8; 8192 + usize::from(input.u16() % 8192)];
    let mut link = Link {
        incoming: Vec::new(),
        pos: 0,
        store: Default::default(),
        tear: false,
    };
    // A store with records from the input (any bytes: torn, corrupt, ...).
    let with_store = input.byte() % 2 == 0;
    if with_store {
        for id in [1u16, 2] {
            link.store.insert(id, input.bytes(24).to_vec());
        }
        // Queue records: any bytes, some sealed with a valid CRC so that
        // their CBOR (index, packet id, sensor, payload) is parsed too.
        for k in 0..input.byte() % 6 {
            let mut record = input.bytes(64).to_vec();
            if input.byte() % 2 == 0 {
                let crc = nimbus::record::crc32(&record).to_le_bytes();
                record.extend_from_slice(&crc);
            }
            link.store.insert(16 + u16::from(k), record);
        }
        link.tear = input.byte() % 4 == 0;
    }
    // SAFETY: an all-zero configuration is valid (NULL pointers, zeros).
    let mut config: nimbus_config_t = unsafe { core::mem::zeroed() };
    config.cloud = u32::from(input.byte() % 3);
    config.device_id = text(&mut input, &mut keep);
    if input.byte() % 2 == 0 {
        config.hub_host = text(&mut input, &mut keep);
    }
    config.keepalive_s = u16::from(input.byte());
    config.backoff_min_ms = u32::from(input.u16());
    config.backoff_max_ms = u32::from(input.u16()) * 4;
    config.telemetry_qos = input.byte() % 3;
    config.queue_len = u16::from(input.byte() % 8);
    config.queue_policy = u32::from(input.byte() % 3);
    config.queue_backlog_only = input.byte() % 2 == 0;
    config.memory.buffer = memory.as_mut_ptr();
    config.memory.len = memory.len();
    config.platform.random_u32 = Some(random);
    config.platform.ctx = (&mut link as *mut Link).cast();
    if with_store {
        config.platform.store_read = Some(store_read);
        config.platform.store_write = Some(store_write);
    }
    let transport = nimbus_transport_t {
        ctx: (&mut link as *mut Link).cast(),
        open: Some(open),
        send: Some(send),
        recv: Some(recv),
        close: Some(close),
    };
    let mut client = Box::new(nimbus_client_t {
        opaque: [0; NIMBUS_CLIENT_WORDS],
    });
    let c: *mut nimbus_client_t = &mut *client;
    // SAFETY: every pointer is valid or NULL, strings are NUL-terminated
    // and outlive the client (`keep`), the memory outlives it too.
    unsafe {
        if nimbus_init(c, &config, &transport) != nimbus_err_t::NIMBUS_OK {
            return;
        }
        // Device information with fuzzed binary addresses (any version).
        let mut info: nimbus_device_info_t = core::mem::zeroed();
        info.name = text(&mut input, &mut keep);
        for ip in [
            &mut info.ipv4,
            &mut info.ipv6,
            &mut info.netmask,
            &mut info.gateway,
        ] {
            ip.version = input.byte() % 8;
            let bytes = input.bytes(16);
            ip.bytes[..bytes.len()].copy_from_slice(bytes);
        }
        info.has_coordinates = input.byte() % 2 == 0;
        info.latitude_udeg = i32::from(input.u16() as i16) * 1000;
        let _ = nimbus_set_device_info(c, &info);
        let _ = nimbus_register_sensor(
            c,
            0,
            c"temperature".as_ptr(),
            c"Cel".as_ptr(),
            Some(read_sensor),
            core::ptr::null_mut(),
        );
        let _ = nimbus_connect(c, 0);
        let mut now = 0u64;
        while !input.is_empty() {
            match input.byte() % 6 {
                0 => {
                    let bytes = input.bytes(255);
                    link.incoming.extend_from_slice(bytes);
                }
                1 => {
                    let json = input.bytes(255);
                    let len = json.len().saturating_sub(usize::from(input.byte() % 2));
                    let mut id = 0u32;
                    let _ = nimbus_report(c, json.as_ptr().cast(), len, &mut id);
                }
                2 => {
                    let payload = input.bytes(255);
                    let mut pid = 0u16;
                    let _ = nimbus_publish_event(
                        c,
                        payload.as_ptr(),
                        payload.len(),
                        input.byte() % 3,
                        &mut pid,
                    );
                }
                3 => {
                    let body = input.bytes(64);
                    let handle = u32::from(input.u16());
                    let _ = nimbus_respond(
                        c,
                        handle,
                        u16::from(input.byte()) * 3,
                        body.as_ptr(),
                        body.len(),
                    );
                }
                4 if input.byte() % 2 == 0 => {
                    let mut pid = 0u16;
                    let _ = nimbus_publish_reading(
                        c,
                        0,
                        i64::from(input.u16()),
                        input.byte() % 20,
                        1,
                        &mut pid,
                    );
                    let _ = nimbus_network_up(c, now);
                }
                4 => {
                    let record = input.bytes(255);
                    let mut out = core::mem::zeroed::<nimbus_record_t>();
                    let _ = nimbus_record_parse(record.as_ptr(), record.len(), &mut out);
                    let _ = nimbus_strerror(-i32::from(input.byte()));
                }
                _ => now += u64::from(input.u16()) * 10,
            }
            let mut wake = 0u64;
            let _ = nimbus_poll(c, now, &mut wake);
        }
        let _ = nimbus_deinit(c);
    }
});
