//! `nimbus provision write|show`: the provisioning record a device reads
//! at boot (`nimbus::record`), written and shown with the core's own code.

use crate::args::Args;
use crate::json::Json;
use crate::{cloud, Failure, Outcome};
use nimbus::cloud::Cloud;
use nimbus::record::{crc32, DeviceRecord, CRC_LEN};

/// Large enough for any record with a few certificates.
const RECORD_CAP: usize = 64 * 1024;

fn read_text(path: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::Io(format!("cannot read {path}: {e}")))
}

/// `provision write`: the record from the options, into `--out`.
pub fn write(args: &Args) -> Outcome {
    args.allow(
        &[
            "cloud", "host", "port", "device", "module", "shadow", "sas-key", "ca", "cert", "key",
            "out",
        ],
        0,
    )?;
    let port = args.required("port")?;
    let port = port
        .parse::<u16>()
        .map_err(|_| Failure::Usage(format!("--port `{port}` is not a number 0-65535")))?;
    let file = |name| args.optional(name)?.map(read_text).transpose();
    let (ca, cert, key) = (file("ca")?, file("cert")?, file("key")?);
    let record = DeviceRecord {
        module_id: args.optional("module")?,
        shadow_name: args.optional("shadow")?,
        sas_key: args.optional("sas-key")?,
        ca_pem: ca.as_deref(),
        cert_pem: cert.as_deref(),
        key_pem: key.as_deref(),
        ..DeviceRecord::new(
            cloud(args)?,
            args.required("host")?,
            port,
            args.required("device")?,
        )
    };
    let out = args.required("out")?;
    let mut buf = vec![0u8; RECORD_CAP];
    let len = record.encode(&mut buf)?;
    let bytes = &buf[..len];
    let crc = crc32(&bytes[..len - CRC_LEN]);
    std::fs::write(out, bytes).map_err(|e| Failure::Io(format!("cannot write {out}: {e}")))?;
    Ok(Json::object()
        .num("bytes", len as u64)
        .str("crc32", &format!("{crc:08x}"))
        .finish())
}

/// `provision show FILE`: the record's fields; secrets as their length.
pub fn show(args: &Args) -> Outcome {
    args.allow(&[], 1)?;
    let path = args.positional(0)?;
    let data = std::fs::read(path).map_err(|e| Failure::Io(format!("cannot read {path}: {e}")))?;
    let r = DeviceRecord::decode(&data)?;
    let text = |json: Json, name: &str, value: Option<&str>| match value {
        Some(v) => json.str(name, v),
        None => json.null(name),
    };
    let secret = |json: Json, name: &str, value: Option<&str>| match value {
        Some(v) => json.str(name, &format!("<{} bytes>", v.len())),
        None => json.null(name),
    };
    let json = Json::object()
        .str(
            "cloud",
            match r.cloud {
                Cloud::Aws => "aws",
                Cloud::Azure => "azure",
            },
        )
        .str("host", r.host)
        .num("port", r.port.into())
        .str("device_id", r.device_id);
    let json = text(json, "module_id", r.module_id);
    let json = text(json, "shadow_name", r.shadow_name);
    let json = secret(json, "sas_key", r.sas_key);
    let json = text(json, "ca_pem", r.ca_pem);
    let json = text(json, "cert_pem", r.cert_pem);
    let json = secret(json, "key_pem", r.key_pem);
    Ok(json.finish())
}
