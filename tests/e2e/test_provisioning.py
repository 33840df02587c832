"""The provisioning service (tools/cloud/provisioning.py): keys and
certificates from the registered CA, the provisioning record, storage in
the filesystem and in Azure Blob Storage (Azurite, Microsoft's emulator,
started here), the bundle handed out once, revocation and its CRL, the
refusals and the security rules; and the whole flow: a device provisioned
by the service, its record flashed into a file, nimbus-demo started from
that record against the local cloud and called with nimbus-cloud, on both
clouds.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from conftest import ROOT, Demo, free_port, listening

import nimbus_cloud  # noqa: E402
from local import LocalCloud  # noqa: E402
from provisioning import Audit  # noqa: E402

SERVICE = ROOT / "tools" / "cloud" / "provisioning.py"
AZURITE = ROOT / "build" / "node" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's documented development account.
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@pytest.fixture(scope="session")
def nimbus_cli() -> Path:
    subprocess.run(["cargo", "build", "-q", "-p", "nimbus-cli"], cwd=ROOT, check=True, timeout=900)
    return ROOT / "target" / "debug" / "nimbus"


@pytest.fixture
def ca(pki, tmp_path):
    d = tmp_path / "ca"
    d.mkdir()
    shutil.copy(pki / "ca.crt", d / "ca.crt")
    shutil.copy(pki / "ca.key", d / "ca.key")
    (d / "ca.key").chmod(0o600)
    return d


class Service:
    def __init__(self, url, token, proc, work):
        self.url, self.token, self.proc, self.work = url, token, proc, work

    def call(self, method, path, body=None, token=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        if token is not False:
            req.add_header("Authorization", f"Bearer {token or self.token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def json(self, method, path, body=None, **kw):
        status, data = self.call(method, path, body, **kw)
        return status, json.loads(data) if data else None


@pytest.fixture
def service(ca, tmp_path, nimbus_cli):
    started = []

    def start(store=None, rate=50.0, extra=()):
        work = tmp_path / f"svc{len(started)}"
        work.mkdir()
        tokens = work / "tokens.json"
        token = subprocess.run([sys.executable, str(SERVICE), "token", "add", "factory", "--tokens", str(tokens)],
                               capture_output=True, text=True, check=True, timeout=60).stdout.strip()
        port = free_port()
        proc = subprocess.Popen([sys.executable, str(SERVICE), "serve", "--ca-cert", str(ca / "ca.crt"),
                                 "--ca-key", str(ca / "ca.key"), "--store", store or f"file:{work / 'store'}",
                                 "--tokens", str(tokens), "--audit", str(work / "audit.jsonl"),
                                 "--port", str(port), "--rate", str(rate), "--nimbus", str(nimbus_cli), *extra],
                                stdout=open(work / "log", "w"), stderr=subprocess.STDOUT)
        s = Service(f"http://127.0.0.1:{port}", token, proc, work)
        started.append(s)
        deadline = time.monotonic() + 30
        while not listening(port):
            assert proc.poll() is None and time.monotonic() < deadline, (work / "log").read_text()
            time.sleep(0.1)
        return s

    yield start
    for s in started:
        s.proc.terminate()
        s.proc.wait(10)


def device_body(cloud, dev, **kw):
    return dict(dict(cloud=cloud, device_id=dev, host="localhost", port=8883), **kw)


def ca_cert(ca):
    return x509.load_pem_x509_certificate((ca / "ca.crt").read_bytes())


def test_issue_bundle_once_and_the_record(service, ca, nimbus_cli, tmp_path):
    s = service()
    status, out = s.json("POST", "/devices", device_body("aws", "thing-7"))
    assert status == 201 and out["device_id"] == "thing-7", out
    status, got = s.json("GET", "/devices/thing-7")
    assert status == 200 and got["serial"] == out["certificate_serial"] and "private_key" not in json.dumps(got)
    status, b = s.json("GET", "/devices/thing-7/bundle")
    assert status == 200, b
    cert = x509.load_pem_x509_certificate(b["certificate"].encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "thing-7"
    cert.verify_directly_issued_by(ca_cert(ca))
    key = serialization.load_pem_private_key(b["private_key"].encode(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
    rec = tmp_path / "record.bin"
    rec.write_bytes(base64.b64decode(b["record_base64"]))
    shown = json.loads(subprocess.run([str(nimbus_cli), "provision", "show", str(rec)], capture_output=True,
                                      text=True, check=True, timeout=30).stdout)
    assert (shown["cloud"], shown["host"], shown["port"], shown["device_id"]) == ("aws", "localhost", 8883, "thing-7")
    assert shown["cert_pem"] and shown["key_pem"].startswith("<") and shown["ca_pem"]
    # Once per issue; the private key and the record (which holds it) left with it.
    assert s.call("GET", "/devices/thing-7/bundle")[0] == 410
    left = [str(p.relative_to(s.work / "store")) for p in (s.work / "store").rglob("*") if p.is_file()]
    assert not [n for n in left if n.endswith(("key.pem", "record.bin"))], left
    assert all(oct(p.stat().st_mode)[-3:] == "600" for p in (s.work / "store").rglob("*") if p.is_file())
    # The audit log: issue and download, chained; no secret anywhere in it or the log.
    audit = (s.work / "audit.jsonl").read_text()
    assert [json.loads(line)["action"] for line in audit.splitlines()] == ["issue", "download"]
    assert Audit.verify(s.work / "audit.jsonl")
    pem_body = b["private_key"].splitlines()[1]
    assert pem_body not in audit and pem_body not in (s.work / "log").read_text()
    assert s.token not in (s.work / "tokens.json").read_text()  # hashed at rest


def test_rsa_and_a_csr_whose_key_never_leaves_the_device(service):
    s = service()
    status, _ = s.json("POST", "/devices", device_body("azure", "rsa-dev", key_type="rsa"))
    assert status == 201
    key = serialization.load_pem_private_key(s.json("GET", "/devices/rsa-dev/bundle")[1]["private_key"].encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    own = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr-dev")])).sign(own, hashes.SHA256()))
    body = device_body("azure", "csr-dev", csr_pem=csr.public_bytes(serialization.Encoding.PEM).decode())
    status, out = s.json("POST", "/devices/csr-dev/csr", body)
    assert status == 201, out
    b = s.json("GET", "/devices/csr-dev/bundle")[1]
    assert "private_key" not in b
    cert = x509.load_pem_x509_certificate(b["certificate"].encode())
    assert cert.public_key().public_numbers() == own.public_key().public_numbers()
    status, out = s.json("POST", "/devices/x/csr", dict(device_body("azure", "x"), csr_pem="not a csr"))
    assert status == 400 and "PEM" in out["detail"]


def test_refusals_leave_nothing_half_written(service):
    s = service()
    assert s.call("POST", "/devices", device_body("aws", "t1"), token=False)[0] == 401
    assert s.call("POST", "/devices", device_body("aws", "t1"), token="not-a-token")[0] == 401
    for body, why in ((device_body("gcp", "t1"), "cloud"), (device_body("aws", "a/b"), "AWS thing name"),
                      (device_body("azure", "has space"), "Azure device id"),
                      (device_body("aws", "t1", module_id="m"), "module_id"),
                      (dict(device_body("aws", "t1"), port=0), "port"),
                      (device_body("aws", "t1", key_type="dsa"), "key_type")):
        status, out = s.json("POST", "/devices", body)
        assert status == 400 and why in out["detail"], (body, out)
    assert s.call("POST", "/devices", raw=b"{" + b" " * 20000 + b"}")[0] == 413
    # The record refuses a name the cloud refuses: 400, and no blob is left.
    status, out = s.json("POST", "/devices", device_body("azure", "ok-dev", host="bad host"))
    assert status == 400 and "record" in out["detail"], out
    assert not (s.work / "store" / "devices" / "ok-dev").exists() or not any(
        (s.work / "store" / "devices" / "ok-dev").rglob("*"))
    assert s.json("POST", "/devices", device_body("aws", "t1"))[0] == 201
    status, out = s.json("POST", "/devices", device_body("aws", "t1"))
    assert status == 409 and "revoke" in out["detail"]


def test_revocation_publishes_a_crl_and_allows_a_new_issue(service, ca):
    s = service()
    serial = int(s.json("POST", "/devices", device_body("aws", "t2"))[1]["certificate_serial"], 16)
    status, out = s.json("DELETE", "/devices/t2")
    assert status == 200 and out["revoked"]
    status, pem = s.call("GET", "/crl.pem", token=False)  # public
    crl = x509.load_pem_x509_crl(pem)
    assert crl.is_signature_valid(ca_cert(ca).public_key())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert s.call("GET", "/devices/t2/bundle")[0] == 410
    status, again = s.json("POST", "/devices", device_body("aws", "t2"))
    assert status == 201 and int(again["certificate_serial"], 16) != serial
    actions = [json.loads(line)["action"] for line in (s.work / "audit.jsonl").read_text().splitlines()]
    assert actions == ["issue", "revoke", "issue"]


def test_no_signed_links_from_the_filesystem(service):
    s = service()
    assert s.json("POST", "/devices", device_body("aws", "t3"))[0] == 201
    status, out = s.json("GET", "/devices/t3/bundle?link=true")
    assert status == 400 and "signed links" in out["detail"]
    assert s.call("GET", "/devices/t3/bundle")[0] == 200  # refused before anything was handed out


def test_rate_limit_and_openapi(service):
    s = service(rate=1.0)
    statuses = [s.call("GET", "/devices/nobody")[0] for _ in range(6)]
    assert statuses.count(429) >= 1 and 404 in statuses, statuses
    status, spec = s.json("GET", "/openapi.json", token=False)
    assert status == 200 and {"/devices", "/devices/{device_id}/csr", "/devices/{device_id}/bundle",
                              "/crl.pem"} <= set(spec["paths"])


def test_a_ca_key_others_can_read_is_refused(ca, tmp_path, nimbus_cli):
    (ca / "ca.key").chmod(0o644)
    tokens = tmp_path / "t.json"
    tokens.write_text(json.dumps({"x": "0" * 64}))
    r = subprocess.run([sys.executable, str(SERVICE), "serve", "--ca-cert", str(ca / "ca.crt"), "--ca-key",
                        str(ca / "ca.key"), "--store", f"file:{tmp_path / 's'}", "--tokens", str(tokens),
                        "--audit", str(tmp_path / "a"), "--port", str(free_port()), "--nimbus", str(nimbus_cli)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "readable by others" in r.stderr


@pytest.fixture
def azurite(tmp_path):
    assert AZURITE.exists(), "Azurite is missing: tools/setup.sh --test installs it"
    port = free_port()
    proc = subprocess.Popen([str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location",
                             str(tmp_path / "azurite"), "--silent", "--skipApiVersionCheck"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not listening(port):
        assert proc.poll() is None and time.monotonic() < deadline, "Azurite did not start"
        time.sleep(0.1)
    yield (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
           f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
    proc.send_signal(signal.SIGINT)  # Azurite stops on Ctrl-C
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def test_the_blob_container_in_azure_storage(service, azurite):
    from azure.storage.blob import BlobServiceClient

    s = service(store=f"azure:{azurite};container=nimbus-devices")
    status, out = s.json("POST", "/devices", device_body("azure", "blob-dev"))
    assert status == 201, out
    container = BlobServiceClient.from_connection_string(azurite).get_container_client("nimbus-devices")
    serial = out["certificate_serial"]
    names = sorted(b.name for b in container.list_blobs())
    assert names == sorted(["devices/blob-dev/manifest.json"] + [
        f"devices/blob-dev/{serial}/{n}" for n in ("ca.pem", "cert.pem", "config.json", "key.pem", "record.bin")])
    b = s.json("GET", "/devices/blob-dev/bundle")[1]
    assert x509.load_pem_x509_certificate(b["certificate"].encode()).serial_number == int(serial, 16)
    names = sorted(b.name for b in container.list_blobs())
    assert f"devices/blob-dev/{serial}/key.pem" not in names and f"devices/blob-dev/{serial}/cert.pem" in names
    assert s.call("GET", "/devices/blob-dev/bundle")[0] == 410
    # A short-lived read-only link instead of the bundle itself.
    assert s.json("POST", "/devices", device_body("azure", "link-dev"))[0] == 201
    status, out = s.json("GET", "/devices/link-dev/bundle?link=true")
    assert status == 200 and out["expires_in"] == 300 and "sig=" in out["url"] and "sp=r" in out["url"], out
    with urllib.request.urlopen(out["url"], timeout=30) as r:
        linked = json.loads(r.read())
    assert linked["device_id"] == "link-dev" and "PRIVATE KEY" in linked["private_key"]
    forged = out["url"].replace("sp=r", "sp=rw")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(forged, timeout=30)
    assert e.value.code == 403
    assert s.call("GET", "/devices/link-dev/bundle?link=true")[0] == 410


@pytest.mark.parametrize("kind", ["aws", "azure"])
def test_provisioned_device_runs_from_its_record(kind, service, pki, tmp_path, demo_bin):
    """Provision with the service, flash the record into a file, start the
    demo from it against the local cloud over TLS, then call it, read and
    set its state with nimbus-cloud."""
    dev = f"prov-{kind}-7"
    cloud = LocalCloud(tmp_path / "cloud", pki, hub="localhost")  # the record's host is the hub
    cloud.registry.register(dev, kind)
    cloud.start()
    demo = None
    try:
        s = service()
        status, out = s.json("POST", "/devices", dict(cloud=kind, device_id=dev, host="localhost",
                                                      port=cloud.device_port(kind)))
        assert status == 201, out
        record = tmp_path / "flash.bin"
        record.write_bytes(base64.b64decode(s.json("GET", f"/devices/{dev}/bundle")[1]["record_base64"]))
        demo = Demo([str(demo_bin), "--record", str(record), "--connect-address", "127.0.0.1",
                     "--sensors", "2", "--run-for-s", "25"])
        assert demo.wait_line(r"-- connected as .*connection 1$", 15), demo.output()
        info = tmp_path / "cloud.json"
        info.write_text(json.dumps(cloud.endpoints()))
        c = nimbus_cloud.cloud_from(nimbus_cloud.argparse.Namespace(cloud=kind, local_cloud=str(info)))
        answer = c.call(dev, "sensor/list", timeout=10)
        assert answer["status"] == 200 and len(answer["body"]["sensors"]) == 2, answer
        c.set_desired(dev, {"telemetry_period_ms": 900})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and c.state(dev)["reported"].get("telemetry_period_ms") != 900:
            time.sleep(0.1)
        assert c.state(dev)["reported"]["telemetry_period_ms"] == 900
        assert demo.wait(40) == 0, demo.output()
        assert not cloud.violations(), cloud.violations()
    finally:
        if demo:
            demo.stop()
        cloud.close()



def test_aws_jitp_registration_config():
    """What `aws iot register-ca-certificate --registration-config` gets:
    a thing named after the certificate's CN (the service's CN = device
    id) with a policy that allows the thing its generic and shadow topics
    and nothing else."""
    r = subprocess.run([sys.executable, str(SERVICE), "aws-registration-config", "--role-arn",
                        "arn:aws:iam::123456789012:role/JITP"], capture_output=True, text=True, check=True, timeout=60)
    config = json.loads(r.stdout)
    assert config["roleArn"].endswith(":role/JITP")
    t = json.loads(config["templateBody"])
    assert t["Resources"]["thing"]["Properties"]["ThingName"] == {"Ref": "AWS::IoT::Certificate::CommonName"}
    policy = json.loads(t["Resources"]["policy"]["Properties"]["PolicyDocument"])
    allowed = {s["Action"]: s["Resource"] for s in policy["Statement"]}
    thing = "${iot:Connection.Thing.ThingName}"
    assert allowed["iot:Connect"] == f"arn:aws:iot:*:*:client/{thing}"
    assert f"arn:aws:iot:*:*:topic/{thing}/response/*" in allowed["iot:Publish"]
    assert f"arn:aws:iot:*:*:topicfilter/{thing}/request/#" in allowed["iot:Subscribe"]
    assert not [r for rs in allowed.values() for r in ([rs] if isinstance(rs, str) else rs) if r.endswith("/*/#")]
