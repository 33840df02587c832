//! The C API driven from Rust through its `extern "C"` entry points, as a
//! C firmware calls them: init, poll, callbacks re-entering the API,
//! deferred answers, reports, deinit and re-init. Small on purpose, so that
//! CI also runs it under Miri (Stacked Borrows), which checks the unsafe
//! boundary for aliasing, not only for bounds:
//!   cargo +nightly miri test --test c_api

use core::ffi::{c_char, c_void};
use nimbus::ffi::*;
use std::ptr;

/// The fake link and what the callbacks saw.
#[derive(Default)]
struct World {
    incoming: Vec<u8>,
    pos: usize,
    sent: Vec<u8>,
    deferred: Vec<u32>,
    connections: Vec<(bool, i32)>,
    errors: Vec<i32>,
    /// What `on_error`'s own call on its client returned.
    from_error: Vec<nimbus_err_t>,
    published: Vec<u16>,
    nested: Vec<nimbus_err_t>,
    /// The store, when the test gives the client one.
    store: std::collections::BTreeMap<u16, Vec<u8>>,
}

extern "C" fn store_read(ctx: *mut c_void, id: u16, buf: *mut u8, cap: usize) -> i32 {
    let Some(record) = world(ctx).store.get(&id) else {
        return 0;
    };
    if record.len() > cap {
        return -(nimbus_err_t::NIMBUS_ERR_BUFFER_TOO_SMALL as i32);
    }
    // SAFETY: the client gives a buffer of `cap` bytes; the record fits.
    unsafe { ptr::copy_nonoverlapping(record.as_ptr(), buf, record.len()) };
    record.len() as i32
}

extern "C" fn store_write(ctx: *mut c_void, id: u16, data: *const u8, len: usize) -> i32 {
    let store = &mut world(ctx).store;
    if len == 0 {
        store.remove(&id);
    } else {
        // SAFETY: the client gives `len` readable bytes at `data`.
        store.insert(
            id,
            unsafe { core::slice::from_raw_parts(data, len) }.to_vec(),
        );
    }
    0
}

extern "C" fn read_sensor(_: *mut c_void, _id: u16, mantissa: *mut i64, decimals: *mut u8) -> i32 {
    // SAFETY: the client gives valid out pointers.
    unsafe {
        *mantissa = 215;
        *decimals = 1;
    }
    0
}

fn world<'a>(ctx: *mut c_void) -> &'a mut World {
    // SAFETY: every ctx and user pointer in this test is the one `World`
    // of the running test, and no other reference to it is live while a
    // callback runs (the test only reads it between API calls).
    unsafe { &mut *ctx.cast::<World>() }
}

extern "C" fn open(_: *mut c_void) -> i32 {
    1
}

extern "C" fn send(ctx: *mut c_void, buf: *const u8, len: usize) -> i32 {
    // SAFETY: the core passes `len` readable bytes at `buf`.
    let bytes = unsafe { std::slice::from_raw_parts(buf, len) };
    world(ctx).sent.extend_from_slice(bytes);
    len as i32
}

extern "C" fn recv(ctx: *mut c_void, buf: *mut u8, len: usize) -> i32 {
    let w = world(ctx);
    let n = (w.incoming.len() - w.pos).min(len);
    // SAFETY: the core passes `len` writable bytes at `buf`.
    unsafe { ptr::copy_nonoverlapping(w.incoming.as_ptr().add(w.pos), buf, n) };
    w.pos += n;
    n as i32
}

extern "C" fn close(_: *mut c_void) {}

extern "C" fn random(_: *mut c_void) -> u32 {
    7
}

extern "C" fn on_connection(
    user: *mut c_void,
    client: *mut nimbus_client_t,
    up: bool,
    reason: i32,
) {
    world(user).connections.push((up, reason));
    if up {
        // Re-entering the API from a callback: allowed through the actions
        // the callback was lent.
        let mut id = 0u32;
        let json = b"{\"fw\":\"1.0\"}";
        // SAFETY: client is the running client, json is valid for its length.
        let r = unsafe { nimbus_report(client, json.as_ptr().cast(), json.len(), &mut id) };
        world(user).nested.push(r);
        // A call that needs the whole client is refused inside poll.
        // SAFETY: as above.
        let r = unsafe { nimbus_connect(client, 0) };
        world(user).nested.push(r);
    }
}

extern "C" fn on_error(
    user: *mut c_void,
    client: *mut nimbus_client_t,
    error: i32,
    _what: *const c_char,
    _len: usize,
) {
    world(user).errors.push(error);
    // Telling the cloud, through the client the callback is given.
    let json = b"{\"skipped\":1}";
    // SAFETY: client is the running client, json is valid for its length.
    let r = unsafe { nimbus_publish_event(client, json.as_ptr(), json.len(), 0, ptr::null_mut()) };
    world(user).from_error.push(r);
}

extern "C" fn on_published(user: *mut c_void, _c: *mut nimbus_client_t, packet_id: u16) {
    world(user).published.push(packet_id);
}

extern "C" fn handler(
    user: *mut c_void,
    client: *mut nimbus_client_t,
    request: *const nimbus_request_t,
    reply: *mut u8,
    reply_cap: usize,
    reply_len: *mut usize,
) -> i32 {
    // SAFETY: the core passes a valid request for the call's duration.
    let request = unsafe { &*request };
    // SAFETY: path is valid for path_len bytes.
    let path = unsafe { std::slice::from_raw_parts(request.path.cast::<u8>(), request.path_len) };
    if path == b"later" {
        world(user).deferred.push(request.handle);
        return NIMBUS_DEFER;
    }
    // Answer now, and publish an event from inside the handler.
    let body = b"{\"ok\":true}";
    assert!(body.len() <= reply_cap);
    // SAFETY: reply has reply_cap writable bytes; reply_len is valid.
    unsafe {
        ptr::copy_nonoverlapping(body.as_ptr(), reply, body.len());
        *reply_len = body.len();
    }
    let mut pid = 0u16;
    // SAFETY: client is the running client.
    let r = unsafe { nimbus_publish_event(client, b"{}".as_ptr(), 2, 1, &mut pid) };
    world(user).nested.push(r);
    200
}

fn publish(topic: &str, payload: &[u8], qos: u8, id: u16) -> Vec<u8> {
    let mut body = (topic.len() as u16).to_be_bytes().to_vec();
    body.extend(topic.as_bytes());
    if qos == 1 {
        body.extend(id.to_be_bytes());
    }
    body.extend(payload);
    let mut out = vec![0x30 | (qos << 1), body.len() as u8];
    assert!(body.len() < 128);
    out.extend(body);
    out
}

/// The packet ids of the SUBSCRIBEs and QoS 1 PUBLISHes in `bytes`.
fn to_ack(bytes: &[u8]) -> Vec<(u8, u16)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 2 {
        let first = rest[0];
        let (mut len, mut i, mut shift) = (0usize, 1, 0);
        loop {
            let b = rest[i];
            len |= usize::from(b & 0x7f) << shift;
            i += 1;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let body = &rest[i..i + len];
        match first >> 4 {
            8 => out.push((8, u16::from_be_bytes([body[0], body[1]]))),
            3 if first & 0x06 == 2 => {
                let tl = usize::from(u16::from_be_bytes([body[0], body[1]]));
                out.push((3, u16::from_be_bytes([body[2 + tl], body[3 + tl]])));
            }
            _ => {}
        }
        rest = &rest[i + len..];
    }
    out
}

/// The client, its memory and the world, behind raw pointers as C holds
/// them (a `&mut` made for each call would, under Stacked Borrows,
/// invalidate the pointers the client keeps).
struct Fixture {
    world: *mut World,
    memory: *mut [u8],
    client: *mut nimbus_client_t,
    /// The size `nimbus_init_sized` is told (a C firmware: `sizeof(nimbus_client_t)`).
    client_size: usize,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SAFETY: the three were made by Box::into_raw in `new` and are
        // freed once, after the client is no longer used.
        unsafe {
            drop(Box::from_raw(self.client));
            drop(Box::from_raw(self.memory));
            drop(Box::from_raw(self.world));
        }
    }
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            world: Box::into_raw(Box::default()),
            memory: Box::into_raw(vec![0u8; 12 * 1024].into_boxed_slice()),
            client: Box::into_raw(Box::new(nimbus_client_t {
                opaque: [0; NIMBUS_CLIENT_WORDS],
            })),
            client_size: core::mem::size_of::<nimbus_client_t>(),
        }
    }

    fn ptr(&mut self) -> *mut nimbus_client_t {
        self.client
    }

    /// The world, between API calls.
    fn w(&mut self) -> &mut World {
        world(self.world.cast())
    }

    fn init(&mut self) -> nimbus_err_t {
        self.init_with(|_| {})
    }

    fn init_with(&mut self, tune: impl FnOnce(&mut nimbus_config_t)) -> nimbus_err_t {
        let user: *mut c_void = self.world.cast();
        // SAFETY: all-zero is a valid configuration (NULLs and zeros).
        let mut c: nimbus_config_t = unsafe { core::mem::zeroed() };
        c.cloud = nimbus_cloud_t::NIMBUS_CLOUD_AWS as u32;
        c.device_id = c"dev1".as_ptr();
        c.telemetry_qos = 1;
        c.memory.buffer = self.memory.cast::<u8>();
        c.memory.len = self.memory.len();
        c.platform.random_u32 = Some(random);
        c.callbacks.user = user;
        c.callbacks.on_connection = Some(on_connection);
        c.callbacks.on_error = Some(on_error);
        c.callbacks.on_published = Some(on_published);
        tune(&mut c);
        let t = nimbus_transport_t {
            ctx: user,
            open: Some(open),
            send: Some(send),
            recv: Some(recv),
            close: Some(close),
        };
        let client = self.ptr();
        // SAFETY: valid pointers; strings are literals; memory and world
        // outlive the client (fields of the fixture); the storage has at
        // least `client_size` bytes.
        let r = unsafe { nimbus_init_sized(client, self.client_size, &c, &t) };
        if r == nimbus_err_t::NIMBUS_OK {
            // SAFETY: as above; the handler's user is the world.
            let r = unsafe { nimbus_register_handler(client, c"+".as_ptr(), Some(handler), user) };
            assert_eq!(r, nimbus_err_t::NIMBUS_OK);
        }
        r
    }

    fn poll(&mut self, now: u64) -> u64 {
        let mut wake = 0;
        let client = self.ptr();
        // SAFETY: an initialised client and a valid out pointer.
        let r = unsafe { nimbus_poll(client, now, &mut wake) };
        assert_eq!(r, nimbus_err_t::NIMBUS_OK);
        wake
    }

    /// Polls, acknowledging what needs it, until nothing more is sent.
    fn exchange(&mut self, now: u64) {
        for _ in 0..4 {
            let before = self.w().sent.len();
            self.poll(now);
            let fresh = self.w().sent[before..].to_vec();
            for (kind, id) in to_ack(&fresh) {
                let [hi, lo] = id.to_be_bytes();
                match kind {
                    8 => self.w().incoming.extend([0x90, 3, hi, lo, 1]),
                    _ => self.w().incoming.extend([0x40, 2, hi, lo]),
                }
            }
        }
    }
}

#[test]
fn init_poll_callbacks_respond_deinit_and_init_again() {
    let mut f = Fixture::new();
    assert_eq!(f.init(), nimbus_err_t::NIMBUS_OK);
    let client = f.ptr();
    // SAFETY: an initialised client.
    assert_eq!(
        unsafe { nimbus_connect(client, 0) },
        nimbus_err_t::NIMBUS_OK
    );
    f.poll(0);
    f.w().incoming.extend([0x20, 2, 0, 0]);
    f.exchange(1);
    assert_eq!(f.w().connections, [(true, 0)]);
    // The report from on_connection was queued; connect was refused there.
    assert_eq!(
        f.w().nested,
        [
            nimbus_err_t::NIMBUS_OK,
            nimbus_err_t::NIMBUS_ERR_INVALID_STATE
        ]
    );
    // A request answered at once (its handler publishes too), one later.
    f.w()
        .incoming
        .extend(publish("dev1/request/now", b"{}", 1, 9));
    f.w()
        .incoming
        .extend(publish("dev1/request/later", b"{}", 0, 0));
    let before = f.w().sent.len();
    f.exchange(2);
    let sent = String::from_utf8_lossy(&f.w().sent[before..]).into_owned();
    assert!(sent.contains("dev1/response/now"), "{sent:?}");
    assert!(sent.contains("dev1/events"), "{sent:?}");
    assert_eq!(f.w().nested[2], nimbus_err_t::NIMBUS_OK);
    let handle = f.w().deferred[0];
    // SAFETY: an initialised client; the payload is valid for its length.
    let r = unsafe { nimbus_respond(client, handle, 200, b"{}".as_ptr(), 2) };
    assert_eq!(r, nimbus_err_t::NIMBUS_OK);
    // Answered once only.
    // SAFETY: as above.
    let r = unsafe { nimbus_respond(client, handle, 200, b"{}".as_ptr(), 2) };
    assert_eq!(r, nimbus_err_t::NIMBUS_ERR_UNKNOWN_REQUEST);
    let before = f.w().sent.len();
    f.exchange(3);
    let sent = String::from_utf8_lossy(&f.w().sent[before..]).into_owned();
    assert!(sent.contains("dev1/response/later"), "{sent:?}");
    assert!(!f.w().published.is_empty());
    // An oversized message is skipped, not fatal.
    let mut big = vec![0x32, 0x80 | 0x10, 0x80 | 0x02, 0x00];
    let topic = b"dev1/request/now";
    let len = 2 + topic.len() + 2 + 32 * 1024 - 4;
    big[1] = 0x80 | (len & 0x7f) as u8;
    big[2] = 0x80 | ((len >> 7) & 0x7f) as u8;
    big[3] = (len >> 14) as u8;
    big.extend((topic.len() as u16).to_be_bytes());
    big.extend(topic);
    big.extend(5u16.to_be_bytes());
    big.resize(4 + len, b' ');
    f.w().incoming.extend(big);
    for _ in 0..64 {
        f.poll(4);
    }
    assert!(f.w().errors.contains(&-41), "{:?}", f.w().errors);
    assert_eq!(f.w().from_error, [nimbus_err_t::NIMBUS_OK]);
    let sent = String::from_utf8_lossy(&f.w().sent).into_owned();
    assert!(sent.contains("{\"skipped\":1}"), "{sent:?}");
    assert_eq!(f.w().connections, [(true, 0)], "still the first connection");
    // Deinit, then calls fail cleanly, then the same storage is reused.
    // SAFETY: an initialised client, not inside poll.
    assert_eq!(unsafe { nimbus_deinit(client) }, nimbus_err_t::NIMBUS_OK);
    let mut wake = 0;
    // SAFETY: the storage is still valid memory; the API refuses it.
    let r = unsafe { nimbus_poll(client, 5, &mut wake) };
    assert_eq!(r, nimbus_err_t::NIMBUS_ERR_INVALID_STATE);
    *f.w() = World::default();
    assert_eq!(f.init(), nimbus_err_t::NIMBUS_OK);
    // SAFETY: the new client.
    assert_eq!(
        unsafe { nimbus_connect(client, 10) },
        nimbus_err_t::NIMBUS_OK
    );
    f.poll(10);
    assert!(f.w().sent.starts_with(&[0x10]), "a CONNECT again");
    // SAFETY: as above.
    assert_eq!(unsafe { nimbus_deinit(client) }, nimbus_err_t::NIMBUS_OK);
}

#[test]
fn null_and_uninitialised_clients_are_refused() {
    let mut wake = 0;
    // SAFETY: NULL is an allowed argument and must be refused.
    let r = unsafe { nimbus_poll(ptr::null_mut(), 0, &mut wake) };
    assert_eq!(r, nimbus_err_t::NIMBUS_ERR_NULL_ARGUMENT);
    let mut f = Fixture::new();
    let client = f.ptr();
    // SAFETY: zeroed storage that nimbus_init never saw.
    assert_eq!(
        unsafe { nimbus_connect(client, 0) },
        nimbus_err_t::NIMBUS_ERR_INVALID_STATE
    );
    // SAFETY: as above.
    assert_eq!(
        unsafe { nimbus_deinit(client) },
        nimbus_err_t::NIMBUS_ERR_INVALID_STATE
    );
}

#[test]
fn storage_sized_for_smaller_bounds_is_refused_untouched() {
    use nimbus::bounds::*;
    let mut f = Fixture::new();
    // What `sizeof(nimbus_client_t)` is in a firmware compiled with one
    // pending request less than the library was built with.
    let bounds = [
        MAX_INFLIGHT,
        MAX_SUBSCRIPTIONS,
        MAX_HANDLERS,
        MAX_SENSORS,
        MAX_PENDING_REQUESTS - 1,
        MAX_TWIN_REQUESTS,
    ];
    f.client_size = client_size(bounds, core::mem::size_of::<usize>());
    assert_eq!(f.init(), nimbus_err_t::NIMBUS_ERR_STORAGE_TOO_SMALL);
    let client = f.ptr();
    // SAFETY: the fixture's storage; nimbus_init_sized wrote nothing there.
    assert_eq!(
        unsafe { nimbus_connect(client, 0) },
        nimbus_err_t::NIMBUS_ERR_INVALID_STATE
    );
    // The header's size for the library's own bounds is accepted.
    f.client_size = NIMBUS_CLIENT_SIZE;
    assert_eq!(f.init(), nimbus_err_t::NIMBUS_OK);
    // SAFETY: an initialised client, not inside poll.
    assert_eq!(unsafe { nimbus_deinit(client) }, nimbus_err_t::NIMBUS_OK);
}

#[test]
fn readings_are_queued_in_the_store_and_stats_say_so() {
    let mut f = Fixture::new();
    let user: *mut c_void = f.world.cast();
    let store = |c: &mut nimbus_config_t| {
        c.platform.ctx = user;
        c.platform.store_read = Some(store_read);
        c.platform.store_write = Some(store_write);
    };
    // A policy that does not exist is refused.
    let bad = f.init_with(|c| {
        store(c);
        c.queue_policy = 7;
    });
    assert_eq!(bad, nimbus_err_t::NIMBUS_ERR_INVALID_ARGUMENT);
    let r = f.init_with(|c| {
        store(c);
        c.queue_len = 4;
        c.queue_policy = nimbus_queue_policy_t::NIMBUS_QUEUE_DROP_OLDEST as u32;
    });
    assert_eq!(r, nimbus_err_t::NIMBUS_OK);
    let client = f.ptr();
    // SAFETY: an initialised client, literal strings, a valid read function.
    let r = unsafe {
        nimbus_register_sensor(
            client,
            0,
            c"temperature".as_ptr(),
            c"Cel".as_ptr(),
            Some(read_sensor),
            user,
        )
    };
    assert_eq!(r, nimbus_err_t::NIMBUS_OK);
    // Offline: six readings into a queue of four, the oldest two dropped.
    for _ in 0..6 {
        let mut id = 0u16;
        // SAFETY: an initialised client and a valid out pointer.
        let r = unsafe { nimbus_publish_reading(client, 0, 215, 1, 1, &mut id) };
        assert_eq!(r, nimbus_err_t::NIMBUS_OK);
    }
    let mut stats = nimbus_stats_t::default();
    // SAFETY: an initialised client and a valid out pointer.
    assert_eq!(
        unsafe { nimbus_stats(client, &mut stats) },
        nimbus_err_t::NIMBUS_OK
    );
    assert_eq!(
        (
            stats.seq,
            stats.boot,
            stats.queued,
            stats.dropped,
            stats.refused
        ),
        (6, 1, 4, 2, 0)
    );
    let queued = f.w().store.keys().filter(|&&id| id >= 16).count();
    assert_eq!(queued, 4);
    // SAFETY: NULL must be refused.
    assert_eq!(
        unsafe { nimbus_stats(client, ptr::null_mut()) },
        nimbus_err_t::NIMBUS_ERR_NULL_ARGUMENT
    );
    // Online: the four go out and, acknowledged, leave the store.
    // SAFETY: an initialised client.
    assert_eq!(
        unsafe { nimbus_connect(client, 0) },
        nimbus_err_t::NIMBUS_OK
    );
    f.poll(0);
    f.w().incoming.extend([0x20, 2, 0, 0]);
    for t in 1..6 {
        f.exchange(t * 100);
    }
    let sent = String::from_utf8_lossy(&f.w().sent).into_owned();
    assert_eq!(sent.matches("\"seq\":").count(), 4, "{sent}");
    assert!(
        sent.contains("\"seq\":3,") && sent.contains("\"seq\":6,"),
        "{sent}"
    );
    // SAFETY: as above.
    assert_eq!(
        unsafe { nimbus_stats(client, &mut stats) },
        nimbus_err_t::NIMBUS_OK
    );
    assert_eq!(stats.queued, 0);
    assert_eq!(f.w().store.keys().filter(|&&id| id >= 16).count(), 0);
    // SAFETY: an initialised client.
    assert_eq!(unsafe { nimbus_deinit(client) }, nimbus_err_t::NIMBUS_OK);
}
