//! Every default written in a port's configuration menu (Zephyr's
//! `zephyr/Kconfig`, the ESP-IDF component's `Kconfig`) equals the core's:
//! a firmware that leaves an option alone gets what the core documents.

use nimbus::device::queue::DEFAULT_QUEUE_LEN;
use nimbus::device::Settings;
use nimbus::ffi::*;
use nimbus::{bounds, cloud::Cloud, mqtt::BackoffConfig};

/// `config NAME` → its first `default` line, from a Kconfig file.
fn defaults(path: &str) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = std::collections::BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("config ") {
            current = Some(name.trim().to_string());
        } else if let (Some(name), Some(value)) = (&current, line.strip_prefix("default ")) {
            out.entry(name.clone())
                .or_insert_with(|| value.trim().to_string());
        }
    }
    out
}

/// What the core says, by Kconfig symbol.
fn core() -> Vec<(&'static str, u64)> {
    let s = Settings::new(Cloud::Aws, "d");
    let b = BackoffConfig::DEFAULT;
    vec![
        ("NIMBUS_MAX_INFLIGHT", bounds::MAX_INFLIGHT as u64),
        ("NIMBUS_MAX_SUBSCRIPTIONS", bounds::MAX_SUBSCRIPTIONS as u64),
        ("NIMBUS_MAX_HANDLERS", bounds::MAX_HANDLERS as u64),
        ("NIMBUS_MAX_SENSORS", bounds::MAX_SENSORS as u64),
        (
            "NIMBUS_MAX_PENDING_REQUESTS",
            bounds::MAX_PENDING_REQUESTS as u64,
        ),
        ("NIMBUS_MAX_TWIN_REQUESTS", bounds::MAX_TWIN_REQUESTS as u64),
        ("NIMBUS_KEEPALIVE_S", u64::from(s.keep_alive_s)),
        ("NIMBUS_BACKOFF_MIN_MS", u64::from(b.base_ms)),
        ("NIMBUS_BACKOFF_MAX_MS", u64::from(b.max_ms)),
        ("NIMBUS_BACKOFF_STABLE_MS", u64::from(b.stable_ms)),
        ("NIMBUS_CONNECT_INTERVAL_MS", u64::from(b.min_interval_ms)),
        ("NIMBUS_REQUEST_TIMEOUT_MS", u64::from(s.request_timeout_ms)),
        ("NIMBUS_TWIN_TIMEOUT_MS", u64::from(s.twin_timeout_ms)),
        ("NIMBUS_RX_LEN", NIMBUS_DEFAULT_RX_LEN as u64),
        ("NIMBUS_TX_LEN", NIMBUS_DEFAULT_TX_LEN as u64),
        ("NIMBUS_INFLIGHT_LEN", NIMBUS_DEFAULT_INFLIGHT_LEN as u64),
        ("NIMBUS_WORK_LEN", NIMBUS_DEFAULT_WORK_LEN as u64),
        ("NIMBUS_REPLY_LEN", NIMBUS_DEFAULT_REPLY_LEN as u64),
        ("NIMBUS_QUEUE_LEN", u64::from(DEFAULT_QUEUE_LEN)),
    ]
}

fn check(path: &str, at_least: usize) {
    let menu = defaults(path);
    let mut compared = 0;
    let mut wrong = Vec::new();
    for (name, value) in core() {
        let Some(written) = menu.get(name) else {
            continue;
        };
        compared += 1;
        if written.parse::<u64>().ok() != Some(value) {
            wrong.push(format!("{name}: {written} in {path}, {value} in the core"));
        }
    }
    assert!(wrong.is_empty(), "defaults differ:\n{}", wrong.join("\n"));
    assert!(
        compared >= at_least,
        "{path}: only {compared} options compared"
    );
}

#[test]
fn zephyr_kconfig_defaults_are_the_cores() {
    check(concat!(env!("CARGO_MANIFEST_DIR"), "/zephyr/Kconfig"), 19);
}

#[test]
fn esp_idf_kconfig_defaults_are_the_cores() {
    check(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/ports/freertos/esp-idf/nimbus/Kconfig"
        ),
        8,
    );
}

/// The table of cmake/nimbus_features.cmake, which both ports' builds use:
/// every option is a `bool` that defaults to `y` in both menus, and every
/// feature is one of the core's default cargo features; every optional
/// default feature has its option.
#[test]
fn each_optional_feature_has_its_option_in_both_menus() {
    let root = env!("CARGO_MANIFEST_DIR");
    let cmake = std::fs::read_to_string(format!("{root}/cmake/nimbus_features.cmake")).unwrap();
    let table: Vec<(String, String)> = cmake
        .split("set(NIMBUS_OPTIONAL_FEATURES")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap()
        .split_whitespace()
        .map(|pair| {
            let (option, feature) = pair.split_once('=').unwrap();
            (option.to_string(), feature.to_string())
        })
        .collect();
    let cargo = std::fs::read_to_string(format!("{root}/Cargo.toml")).unwrap();
    let default_line = cargo
        .lines()
        .find(|l| l.starts_with("default = ["))
        .unwrap();
    let mut default_features: Vec<&str> = default_line
        .trim_start_matches("default = [")
        .trim_end_matches(']')
        .split(',')
        .map(|f| f.trim().trim_matches('"'))
        .collect();
    default_features.retain(|f| *f != "panic-handler");
    for menu in ["zephyr/Kconfig", "ports/freertos/esp-idf/nimbus/Kconfig"] {
        let given = defaults(&format!("{root}/{menu}"));
        for (option, feature) in &table {
            let name = format!("NIMBUS_{option}");
            assert_eq!(
                given.get(&name).map(String::as_str),
                Some("y"),
                "{menu}: {name}"
            );
            assert!(
                default_features.contains(&feature.as_str()),
                "{feature} is not a default feature"
            );
        }
    }
    let mut in_table: Vec<&str> = table.iter().map(|(_, f)| f.as_str()).collect();
    in_table.sort_unstable();
    default_features.sort_unstable();
    assert_eq!(
        in_table, default_features,
        "every optional default feature has an option"
    );
}
