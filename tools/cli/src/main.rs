//! `nimbus`: the dialects and the provisioning record of the Nimbus core
//! on the command line.
//!
//! Every command prints one line of JSON on stdout. A refused input exits
//! with status 1 and the reason on stderr; a usage error exits with 2.

mod args;
mod json;
mod provision;

use args::Args;
use json::Json;
use nimbus::cloud::{azure, sas, Cloud, Dialect, Incoming, Property, TwinOp};
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  nimbus topic out --cloud aws|azure --device ID [--module ID] [--prop NAME=VALUE]... GENERIC_TOPIC
  nimbus topic in --cloud aws|azure --device ID [--module ID] CLOUD_TOPIC
  nimbus topic respond --cloud aws|azure --device ID [--module ID] --to INCOMING_CLOUD_TOPIC [--status N]
  nimbus twin get|report --cloud aws|azure --device ID [--module ID] [--rid R] [--shadow NAME]
  nimbus azure username --hub HOST --device ID [--module ID] [--api-version V]
  nimbus azure sas --hub HOST --device ID [--module ID] --key BASE64 --expiry UNIX_SECONDS
  nimbus provision write --cloud aws|azure --host H --port P --device ID [--module ID]
         [--shadow NAME] [--sas-key BASE64] [--ca FILE] [--cert FILE] [--key FILE] --out FILE
  nimbus provision show FILE";

/// Why a command failed.
enum Failure {
    /// The command line is wrong: print the usage.
    Usage(String),
    /// The core refused the input.
    Refused(nimbus::Error),
    /// A file could not be read or written.
    Io(String),
}

impl From<nimbus::Error> for Failure {
    fn from(e: nimbus::Error) -> Self {
        Failure::Refused(e)
    }
}

type Outcome = Result<String, Failure>;

/// Large enough for any topic or token the commands produce.
const BUF_LEN: usize = 64 * 1024;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(why)) => {
            eprintln!("nimbus: {why}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Refused(e)) => {
            eprintln!("nimbus: refused: {e} ({e:?}, code {})", e.code());
            ExitCode::from(1)
        }
        Err(Failure::Io(why)) => {
            eprintln!("nimbus: {why}");
            ExitCode::from(1)
        }
    }
}

fn run(argv: &[String]) -> Outcome {
    let (group, command, rest) = match argv {
        [g, c, rest @ ..] => (g.as_str(), c.as_str(), rest),
        [h] if h == "--help" || h == "-h" || h == "help" => {
            return Ok(Json::object().str("usage", USAGE).finish())
        }
        _ => return Err(Failure::Usage("missing command".into())),
    };
    let args = Args::parse(rest).map_err(Failure::Usage)?;
    match (group, command) {
        ("topic", "out") => topic_out(&args),
        ("topic", "in") => topic_in(&args),
        ("topic", "respond") => topic_respond(&args),
        ("twin", "get") => twin(&args, TwinOp::Get),
        ("twin", "report") => twin(&args, TwinOp::Report),
        ("azure", "username") => azure_username(&args),
        ("azure", "sas") => azure_sas(&args),
        ("provision", "write") => provision::write(&args),
        ("provision", "show") => provision::show(&args),
        _ => Err(Failure::Usage(format!(
            "unknown command `{group} {command}`"
        ))),
    }
}

/// The cloud `--cloud` names.
fn cloud(args: &Args) -> Result<Cloud, Failure> {
    Ok(match args.required("cloud")? {
        "aws" => Cloud::Aws,
        "azure" => Cloud::Azure,
        other => {
            return Err(Failure::Usage(format!(
                "--cloud must be aws or azure, not `{other}`"
            )))
        }
    })
}

fn dialect(args: &Args) -> Result<Dialect<'_>, Failure> {
    Ok(Dialect::new(
        cloud(args)?,
        args.required("device")?,
        args.optional("module")?,
    )?)
}

fn topic_out(args: &Args) -> Outcome {
    args.allow(&["cloud", "device", "module", "prop"], 1)?;
    let d = dialect(args)?;
    let props = args
        .all("prop")
        .map(|p| {
            p.split_once('=')
                .map(|(name, value)| Property::new(name, value))
                .ok_or_else(|| Failure::Usage(format!("--prop `{p}` is not NAME=VALUE")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut buf = vec![0u8; BUF_LEN];
    let topic = d.publish_topic(args.positional(0)?, &props, &mut buf)?;
    Ok(Json::object().str("topic", topic.as_str()).finish())
}

fn topic_in(args: &Args) -> Outcome {
    args.allow(&["cloud", "device", "module"], 1)?;
    let d = dialect(args)?;
    let mut buf = vec![0u8; BUF_LEN];
    let json = match d.classify(args.positional(0)?)? {
        Incoming::Request(req) => {
            let mut json = Json::object()
                .str("kind", "request")
                .str("topic", d.request_topic(&req, &mut buf)?);
            json = if let Some(rid) = req.rid() {
                json.str("via", "method").str("rid", rid)
            } else if let Some(bag) = req.properties() {
                let mut props = Json::object();
                for entry in bag {
                    let name = entry.name.decode_into(&mut buf)?.to_owned();
                    props = match entry.value {
                        Some(v) => props.str(&name, v.decode_into(&mut buf)?),
                        None => props.null(&name),
                    };
                }
                json.str("via", "c2d").raw("properties", &props.finish())
            } else {
                json.str("via", "topic")
            };
            json
        }
        Incoming::Shadow(s) => {
            let json = Json::object()
                .str("kind", "shadow")
                .str("op", s.op.as_str());
            match s.shadow {
                Some(name) => json.str("shadow", name),
                None => json.null("shadow"),
            }
        }
        Incoming::TwinResponse(r) => {
            let json = Json::object()
                .str("kind", "twin_response")
                .num("status", r.status.into())
                .str("rid", r.rid);
            match r.version {
                Some(v) => json.num("version", v),
                None => json.null("version"),
            }
        }
        Incoming::Desired { version } => Json::object()
            .str("kind", "desired")
            .num("version", version),
    };
    Ok(json.finish())
}

fn topic_respond(args: &Args) -> Outcome {
    args.allow(&["cloud", "device", "module", "to", "status"], 0)?;
    let d = dialect(args)?;
    let status = match args.optional("status")? {
        Some(s) => s
            .parse::<u16>()
            .map_err(|_| Failure::Usage(format!("--status `{s}` is not a number 0-65535")))?,
        None => 200,
    };
    let Incoming::Request(req) = d.classify(args.required("to")?)? else {
        return Err(Failure::Usage("--to is not a request topic".into()));
    };
    let mut buf = vec![0u8; BUF_LEN];
    let topic = d.response_topic(&req, status, &mut buf)?;
    Ok(Json::object().str("topic", topic.as_str()).finish())
}

fn twin(args: &Args, op: TwinOp) -> Outcome {
    args.allow(&["cloud", "device", "module", "rid", "shadow"], 0)?;
    let d = dialect(args)?;
    let rid = args.optional("rid")?.unwrap_or("1");
    let mut buf = vec![0u8; BUF_LEN];
    let topic = d.twin_topic(op, rid, args.optional("shadow")?, &mut buf)?;
    Ok(Json::object().str("topic", topic.as_str()).finish())
}

fn azure_username(args: &Args) -> Outcome {
    args.allow(&["hub", "device", "module", "api-version"], 0)?;
    let d = Dialect::new(
        Cloud::Azure,
        args.required("device")?,
        args.optional("module")?,
    )?;
    let version = args
        .optional("api-version")?
        .unwrap_or(azure::DEFAULT_API_VERSION);
    let mut buf = vec![0u8; BUF_LEN];
    let username = azure::username(
        args.required("hub")?,
        d.device(),
        d.module(),
        version,
        &mut buf,
    )?
    .to_owned();
    let client_id = d.client_id(&mut buf)?;
    Ok(Json::object()
        .str("username", &username)
        .str("client_id", client_id)
        .finish())
}

fn azure_sas(args: &Args) -> Outcome {
    args.allow(&["hub", "device", "module", "key", "expiry"], 0)?;
    let expiry = args.required("expiry")?;
    let expiry = expiry
        .parse::<u64>()
        .map_err(|_| Failure::Usage(format!("--expiry `{expiry}` is not Unix seconds")))?;
    let mut buf = vec![0u8; BUF_LEN];
    let password = sas::token(
        &mut sas::RustCryptoHmac,
        args.required("hub")?,
        args.required("device")?,
        args.optional("module")?,
        args.required("key")?,
        expiry,
        &mut buf,
    )?;
    Ok(Json::object().str("password", password).finish())
}
