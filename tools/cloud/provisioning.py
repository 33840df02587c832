"""The provisioning service: a device's key, its certificate signed by the
CA registered with the cloud, its Nimbus provisioning record and a readable
configuration, made on request, kept in a blob container and handed out
once for flashing.

    provisioning.py serve --ca-cert F --ca-key F --store URL --tokens F --audit F
                          [--host 127.0.0.1] [--port N] [--tls-cert F --tls-key F]
                          [--keep-private-keys] [--rate PER_S] [--nimbus PATH]
    provisioning.py token add NAME --tokens F      prints a new bearer token once
    provisioning.py aws-registration-config --role-arn ARN
                          the --registration-config of `aws iot register-ca-certificate`
                          for just-in-time provisioning (tools/cloud/aws/jitp-template.json)

Stores (`--store`): `file:DIR` (default kind), `azure:<connection string>;container=NAME`
(Azure Blob Storage, or Azurite), `s3:BUCKET[/PREFIX]` (boto3's credentials).

API (OpenAPI at /openapi.json, every route but /crl.pem and the OpenAPI
needs `Authorization: Bearer <token>`):

    POST   /devices                 {cloud, device_id, host, port, module_id?,
                                     shadow_name?, key_type: ec|rsa}
                                    the key pair made here; 201
    POST   /devices/{id}/csr        the same with csr_pem: the device's own
                                    key, which never leaves it; 201
    GET    /devices/{id}            the device's issue (no secrets)
    GET    /devices/{id}/bundle     record (base64), certificate, CA, private
                                    key (when made here), config: once per
                                    issue (410 after); the key is then
                                    deleted from the store unless kept;
                                    ?link=true: a 5-minute read-only link
                                    to it instead (Azure Blob, S3)
    DELETE /devices/{id}            revokes the certificate (the CRL lists it)
    GET    /crl.pem                 the CA's current CRL

Every refusal is a 4xx with {"detail": reason}; an issue is written under
`devices/<id>/<serial>/` and committed by `devices/<id>/manifest.json`
last, so a failure leaves nothing half-written. Every issuance, download
and revocation is appended to the audit log, each line chained to the
previous one by SHA-256. Tokens are stored as SHA-256 hashes; private keys
are never logged.

The record is written by the Nimbus CLI (`nimbus provision write`), the
same code the device parses it with.
"""


import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BODY_MAX = 16 * 1024
AWS_THING = re.compile(r"^[a-zA-Z0-9:_-]{1,128}$")
AZURE_DEVICE = re.compile(r"^[A-Za-z0-9\-:.+%_#*?!(),=@$']{1,128}$")
VALID_DAYS = 365
LINK_S = 300  # a bundle link's life


class Refused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


# ------------------------------------------------------------------ stores


class FileStore:
    """Blobs as files under a directory, written atomically, mode 0600."""

    def __init__(self, root: str):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        p = (self.root / name).resolve()
        if self.root.resolve() not in p.parents:
            raise Refused(400, "bad blob name")
        return p

    def put(self, name: str, data: bytes):
        p = self._path(name)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, p)

    def get(self, name: str) -> bytes | None:
        p = self._path(name)
        return p.read_bytes() if p.exists() else None

    def delete(self, name: str):
        self._path(name).unlink(missing_ok=True)

    def names(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        if not base.exists():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())


class AzureBlobStore:
    """Blobs in an Azure Storage container (azure-storage-blob)."""

    def __init__(self, spec: str):
        from azure.storage.blob import BlobServiceClient

        conn, _, container = spec.rpartition(";container=")
        if not conn or not container:
            raise SystemExit("azure store: azure:<connection string>;container=NAME")
        self.container = BlobServiceClient.from_connection_string(conn).get_container_client(container)
        if not self.container.exists():
            self.container.create_container()

    def put(self, name, data):
        self.container.upload_blob(name, data, overwrite=True)

    def get(self, name):
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.container.download_blob(name).readall()
        except ResourceNotFoundError:
            return None

    def delete(self, name):
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self.container.delete_blob(name)
        except ResourceNotFoundError:
            pass

    def names(self, prefix):
        return sorted(b.name for b in self.container.list_blobs(name_starts_with=prefix))

    def signed_url(self, name: str, seconds: int) -> str:
        """A read-only link to one blob that expires after `seconds`."""
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        blob = self.container.get_blob_client(name)
        sas = generate_blob_sas(account_name=blob.account_name, container_name=blob.container_name,
                                blob_name=name, account_key=self.container.credential.account_key,
                                permission=BlobSasPermissions(read=True),
                                expiry=datetime.datetime.now(datetime.timezone.utc)
                                + datetime.timedelta(seconds=seconds))
        return f"{blob.url}?{sas}"


class S3Store:
    """Blobs in an S3 bucket (boto3, its usual credentials)."""

    def __init__(self, spec: str):
        import boto3

        self.bucket, _, prefix = spec.partition("/")
        self.prefix = prefix.strip("/") + "/" if prefix else ""
        self.s3 = boto3.client("s3")

    def put(self, name, data):
        self.s3.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=data, ServerSideEncryption="AES256")

    def get(self, name):
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=self.prefix + name)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None

    def delete(self, name):
        self.s3.delete_object(Bucket=self.bucket, Key=self.prefix + name)

    def signed_url(self, name: str, seconds: int) -> str:
        return self.s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": self.prefix + name},
                                              ExpiresIn=seconds)

    def names(self, prefix):
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            out += [o["Key"][len(self.prefix):] for o in page.get("Contents", [])]
        return sorted(out)


def open_store(url: str):
    kind, sep, rest = url.partition(":")
    if not sep:
        return FileStore(url)
    if kind == "file":
        return FileStore(rest)
    if kind == "azure":
        return AzureBlobStore(rest)
    if kind == "s3":
        return S3Store(rest)
    raise SystemExit(f"unknown store {kind!r}: file:DIR, azure:..., s3:BUCKET")


# ------------------------------------------------------ tokens and audit


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_token(path: Path, name: str) -> str:
    tokens = json.loads(path.read_text()) if path.exists() else {}
    token = secrets.token_urlsafe(32)
    tokens[name] = hash_token(token)
    path.write_text(json.dumps(tokens, indent=1))
    path.chmod(0o600)
    return token


class Audit:
    """Append-only JSON lines, each with the SHA-256 of the line before."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = threading.Lock()
        lines = self.path.read_text().splitlines() if self.path.exists() else []
        self.last = hashlib.sha256(lines[-1].encode()).hexdigest() if lines else "0" * 64

    def write(self, **entry):
        with self.lock:
            line = json.dumps(dict(time=datetime.datetime.now(datetime.timezone.utc).isoformat(),
                                   prev=self.last, **entry), sort_keys=True)
            with open(self.path, "a") as f:
                f.write(line + "\n")
            self.last = hashlib.sha256(line.encode()).hexdigest()

    @staticmethod
    def verify(path: Path) -> bool:
        prev = "0" * 64
        for line in Path(path).read_text().splitlines():
            if json.loads(line)["prev"] != prev:
                return False
            prev = hashlib.sha256(line.encode()).hexdigest()
        return True


class Buckets:
    """A token bucket per caller: `rate` a second, bursts of twice that."""

    def __init__(self, rate: float):
        self.rate, self.state, self.lock = rate, {}, threading.Lock()

    def take(self, who: str) -> bool:
        with self.lock:
            tokens, at = self.state.get(who, (2 * self.rate, time.monotonic()))
            now = time.monotonic()
            tokens = min(2 * self.rate, tokens + (now - at) * self.rate)
            ok = tokens >= 1
            self.state[who] = (tokens - 1 if ok else tokens, now)
            return ok


# ---------------------------------------------------------------- the CA


class Issuer:
    def __init__(self, ca_cert: Path, ca_key: Path):
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        mode = os.stat(ca_key).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SystemExit(f"{ca_key} is readable by others (mode {stat.S_IMODE(mode):o}): chmod 600 it")
        self.cert = x509.load_pem_x509_certificate(Path(ca_cert).read_bytes())
        self.key = serialization.load_pem_private_key(Path(ca_key).read_bytes(), password=None)
        self.pem = Path(ca_cert).read_bytes()

    @staticmethod
    def new_key(kind: str):
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        if kind == "ec":
            return ec.generate_private_key(ec.SECP256R1())
        if kind == "rsa":
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        raise Refused(400, "key_type must be ec (P-256) or rsa (2048)")

    def issue(self, device_id: str, public_key):
        """A client certificate for `device_id`: CN = device id, as the hub
        requires of CA-signed devices and AWS's JITP template reads the
        thing name from."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = datetime.datetime.now(datetime.timezone.utc)
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)]))
             .issuer_name(self.cert.subject)
             .public_key(public_key)
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                          crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                            critical=False))
        return b.sign(self.key, hashes.SHA256())

    def crl(self, revoked: list[tuple[int, float]]) -> bytes:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization

        now = datetime.datetime.now(datetime.timezone.utc)
        b = (x509.CertificateRevocationListBuilder().issuer_name(self.cert.subject)
             .last_update(now).next_update(now + datetime.timedelta(days=1)))
        for serial, at in revoked:
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(datetime.datetime.fromtimestamp(at, datetime.timezone.utc)).build())
        return b.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


# --------------------------------------------------------------- service


class Provisioning:
    """What the routes do, without HTTP (tested through the routes)."""

    def __init__(self, issuer: Issuer, store, audit: Audit, nimbus: str, keep_private_keys: bool = False):
        self.issuer, self.store, self.audit, self.nimbus = issuer, store, audit, nimbus
        self.keep_private_keys = keep_private_keys
        self.lock = threading.Lock()

    @staticmethod
    def check(req: dict) -> dict:
        cloud = req.get("cloud")
        dev = req.get("device_id")
        if cloud not in ("aws", "azure"):
            raise Refused(400, "cloud must be aws or azure")
        if not isinstance(dev, str) or not (AWS_THING if cloud == "aws" else AZURE_DEVICE).match(dev):
            raise Refused(400, "device_id is not a valid " + (
                "AWS thing name (1-128 of a-z A-Z 0-9 : _ -)" if cloud == "aws"
                else "Azure device id (1-128 of letters, digits and - : . + % _ # * ? ! ( ) , = @ $ ')"))
        host, port = req.get("host"), req.get("port")
        if not isinstance(host, str) or not host or not isinstance(port, int) or not 0 < port < 65536:
            raise Refused(400, "host (text) and port (1-65535) are required")
        if cloud == "aws" and req.get("module_id"):
            raise Refused(400, "module_id is Azure's")
        if cloud == "azure" and req.get("shadow_name"):
            raise Refused(400, "shadow_name is AWS's")
        return req

    def _manifest(self, dev: str) -> dict | None:
        raw = self.store.get(f"devices/{dev}/manifest.json")
        return json.loads(raw) if raw else None

    def _record(self, req: dict, cert_pem: bytes, key_pem: bytes | None) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            (t / "ca.pem").write_bytes(self.issuer.pem)
            (t / "cert.pem").write_bytes(cert_pem)
            args = [self.nimbus, "provision", "write", "--cloud", req["cloud"], "--host", req["host"],
                    "--port", str(req["port"]), "--device", req["device_id"], "--ca", str(t / "ca.pem"),
                    "--out", str(t / "record.bin")]
            # The record carries a certificate only with its key; a device
            # that made its own key (CSR) keeps both beside the record.
            if key_pem is not None:
                args += ["--cert", str(t / "cert.pem")]
                fd = os.open(t / "key.pem", os.O_WRONLY | os.O_CREAT, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(key_pem)
                args += ["--key", str(t / "key.pem")]
            for opt, field in (("--module", "module_id"), ("--shadow", "shadow_name")):
                if req.get(field):
                    args += [opt, req[field]]
            r = subprocess.run(args, capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                raise Refused(400, "the record refuses it: " + r.stderr.strip()[-300:])
            return (t / "record.bin").read_bytes()

    def create(self, req: dict, caller: str, csr_pem: str | None = None) -> dict:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        req = self.check(req)
        dev = req["device_id"]
        key_pem = None
        if csr_pem is not None:
            try:
                csr = x509.load_pem_x509_csr(csr_pem.encode())
            except (ValueError, TypeError):
                raise Refused(400, "csr_pem is not a PEM certificate request")
            if not csr.is_signature_valid:
                raise Refused(400, "the CSR's signature does not verify")
            public_key = csr.public_key()
        else:
            key = self.issuer.new_key(req.get("key_type") or "ec")
            public_key = key.public_key()
            key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        with self.lock:
            m = self._manifest(dev)
            if m is not None and not m.get("revoked"):
                raise Refused(409, f"device {dev} already has a certificate (serial {m['serial']:x}); revoke it first")
            cert = self.issuer.issue(dev, public_key)
            from cryptography.hazmat.primitives.serialization import Encoding

            cert_pem = cert.public_bytes(Encoding.PEM)
            record = self._record(req, cert_pem, key_pem)
            config = {k: req.get(k) for k in ("cloud", "device_id", "host", "port", "module_id", "shadow_name")}
            config.update(certificate_serial=f"{cert.serial_number:x}",
                          not_after=cert.not_valid_after_utc.isoformat(),
                          key="in the record" if key_pem else "the device's own (CSR)")
            base = f"devices/{dev}/{cert.serial_number:x}/"
            blobs = {"cert.pem": cert_pem, "ca.pem": self.issuer.pem, "record.bin": record,
                     "config.json": json.dumps(config, indent=1).encode()}
            if key_pem is not None:
                blobs["key.pem"] = key_pem
            written = []
            try:
                for name, data in blobs.items():
                    self.store.put(base + name, data)
                    written.append(base + name)
                manifest = dict(config, serial=cert.serial_number, issued=time.time(), downloaded=False,
                                revoked=None, files=sorted(blobs), server_key=key_pem is not None)
                self.store.put(f"devices/{dev}/manifest.json", json.dumps(manifest).encode())
            except Exception:
                for name in written:
                    self.store.delete(name)
                raise
        self.audit.write(action="issue", device=dev, cloud=req["cloud"], serial=f"{cert.serial_number:x}",
                         by=caller, key="server" if key_pem else "csr")
        return {"device_id": dev, "cloud": req["cloud"], "certificate_serial": f"{cert.serial_number:x}",
                "bundle": f"/devices/{dev}/bundle"}

    def _issued(self, dev: str) -> dict:
        """The device's manifest, or 404."""
        m = self._manifest(dev)
        if m is None:
            raise Refused(404, f"no device {dev}")
        return m

    def get(self, dev: str) -> dict:
        m = self._issued(dev)
        return dict(m, serial=f"{m['serial']:x}")

    def bundle(self, dev: str, caller: str, link: bool = False) -> dict:
        with self.lock:
            m = self._issued(dev)
            if m.get("revoked"):
                raise Refused(410, "the certificate was revoked")
            if m["downloaded"]:
                raise Refused(410, "the bundle was handed out already; revoke and issue again")
            base = f"devices/{dev}/{m['serial']:x}/"
            out = {"device_id": dev, "certificate": self.store.get(base + "cert.pem").decode(),
                   "ca": self.store.get(base + "ca.pem").decode(),
                   "record_base64": base64.b64encode(self.store.get(base + "record.bin")).decode(),
                   "config": json.loads(self.store.get(base + "config.json"))}
            if m["server_key"]:
                key = self.store.get(base + "key.pem")
                if key is None:
                    raise Refused(410, "the private key is gone from the store")
                out["private_key"] = key.decode()
            if link and not hasattr(self.store, "signed_url"):
                raise Refused(400, "this store has no signed links: ask without ?link")
            m["downloaded"] = True
            self.store.put(f"devices/{dev}/manifest.json", json.dumps(m).encode())
            if m["server_key"] and not self.keep_private_keys:
                # The record holds the key too: both leave with the bundle.
                self.store.delete(base + "key.pem")
                self.store.delete(base + "record.bin")
            if link:
                # The bundle as one blob behind a link that expires; the
                # blob goes when the link does.
                name = f"bundles/{dev}/{m['serial']:x}-{secrets.token_hex(8)}.json"
                self.store.put(name, json.dumps(out).encode())
                out = {"device_id": dev, "url": self.store.signed_url(name, LINK_S), "expires_in": LINK_S}
                timer = threading.Timer(LINK_S + 5, self.store.delete, (name,))
                timer.daemon = True
                timer.start()
        self.audit.write(action="download", device=dev, serial=f"{m['serial']:x}", by=caller,
                         via="link" if link else "response")
        return out

    def revoke(self, dev: str, caller: str) -> dict:
        with self.lock:
            m = self._issued(dev)
            if not m.get("revoked"):
                m["revoked"] = time.time()
                self.store.put(f"devices/{dev}/manifest.json", json.dumps(m).encode())
                revoked = json.loads(self.store.get("revoked.json") or b"[]")
                revoked.append([m["serial"], m["revoked"]])
                self.store.put("revoked.json", json.dumps(revoked).encode())
                self.store.put("crl.pem", self.issuer.crl([tuple(r) for r in revoked]))
        self.audit.write(action="revoke", device=dev, serial=f"{m['serial']:x}", by=caller)
        return {"device_id": dev, "revoked": True, "serial": f"{m['serial']:x}"}

    def crl(self) -> bytes:
        return self.store.get("crl.pem") or self.issuer.crl([])


def make_app(prov: Provisioning, tokens: dict[str, str], rate: float = 10.0):
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response
    from pydantic import BaseModel, Field

    app = FastAPI(title="Nimbus provisioning service", version="1",
                  description="Device keys, certificates from the registered CA, provisioning records "
                              "and configuration, stored in a blob container and handed out once.")
    buckets = Buckets(rate)

    class DeviceRequest(BaseModel):
        cloud: str = Field(description="aws or azure")
        device_id: str = Field(description="AWS thing name or Azure device id")
        host: str = Field(description="the endpoint: AWS data endpoint or hub host name")
        port: int = 8883
        module_id: str | None = None
        shadow_name: str | None = None
        key_type: str = Field("ec", description="ec (P-256) or rsa (2048)")

    class CsrRequest(DeviceRequest):
        csr_pem: str = Field(description="the device's certificate request, PEM")

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if int(request.headers.get("content-length") or 0) > BODY_MAX:
            return JSONResponse({"detail": f"body over {BODY_MAX} bytes"}, status_code=413)
        if request.url.path in ("/crl.pem", "/openapi.json", "/docs"):
            return await call_next(request)
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        digest = hash_token(token)
        who = next((n for n, h in tokens.items() if hmac.compare_digest(h, digest)), None)
        if not token or who is None:
            return JSONResponse({"detail": "a valid bearer token is required"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        if not buckets.take(who):
            return JSONResponse({"detail": "too many requests"}, status_code=429, headers={"Retry-After": "1"})
        request.state.who = who
        return await call_next(request)

    def run(fn):
        try:
            return fn()
        except Refused as e:
            return JSONResponse({"detail": e.reason}, status_code=e.status)

    @app.post("/devices", status_code=201, summary="Issue a device: key pair made here")
    def create(body: DeviceRequest, request: Request):
        return run(lambda: prov.create(body.model_dump(), request.state.who))

    @app.post("/devices/{device_id}/csr", status_code=201, summary="Issue a device from its own CSR")
    def create_csr(device_id: str, body: CsrRequest, request: Request):
        if body.device_id != device_id:
            return JSONResponse({"detail": "device_id differs from the path"}, status_code=400)
        req = body.model_dump()
        return run(lambda: prov.create(req, request.state.who, csr_pem=req.pop("csr_pem")))

    @app.get("/devices/{device_id}", summary="The device's issue, without secrets")
    def get(device_id: str):
        return run(lambda: prov.get(device_id))

    @app.get("/devices/{device_id}/bundle", summary="The bundle for flashing, once per issue")
    def bundle(device_id: str, request: Request, link: bool = False):
        """With `?link=true` (Azure Blob Storage, S3): a read-only link to
        the bundle that expires after 5 minutes, instead of the bundle."""
        return run(lambda: prov.bundle(device_id, request.state.who, link))

    @app.delete("/devices/{device_id}", summary="Revoke the device's certificate")
    def revoke(device_id: str, request: Request):
        return run(lambda: prov.revoke(device_id, request.state.who))

    @app.get("/crl.pem", summary="The CA's certificate revocation list")
    def crl():
        return Response(prov.crl(), media_type="application/pkix-crl")

    return app


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--ca-cert", required=True)
    s.add_argument("--ca-key", required=True)
    s.add_argument("--store", required=True)
    s.add_argument("--tokens", required=True)
    s.add_argument("--audit", required=True)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8443)
    s.add_argument("--tls-cert")
    s.add_argument("--tls-key")
    s.add_argument("--keep-private-keys", action="store_true")
    s.add_argument("--rate", type=float, default=10.0, help="requests a second per token")
    s.add_argument("--nimbus", default=str(ROOT / "target" / "debug" / "nimbus"), help="the Nimbus CLI")
    r = sub.add_parser("aws-registration-config")
    r.add_argument("--role-arn", required=True, help="a role AWS IoT assumes to provision (JITP)")
    t = sub.add_parser("token")
    t.add_argument("action", choices=["add"])
    t.add_argument("name")
    t.add_argument("--tokens", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "aws-registration-config":
        template = (ROOT / "tools" / "cloud" / "aws" / "jitp-template.json").read_text()
        print(json.dumps({"templateBody": json.dumps(json.loads(template)), "roleArn": a.role_arn}))
        return 0
    if a.cmd == "token":
        print(add_token(Path(a.tokens), a.name))
        return 0
    import uvicorn

    tokens = json.loads(Path(a.tokens).read_text())
    if not tokens:
        raise SystemExit("no tokens: add one with `provisioning.py token add NAME --tokens F`")
    if not Path(a.nimbus).exists():
        raise SystemExit(f"the Nimbus CLI is not at {a.nimbus} (cargo build -p nimbus-cli)")
    prov = Provisioning(Issuer(Path(a.ca_cert), Path(a.ca_key)), open_store(a.store), Audit(Path(a.audit)),
                        a.nimbus, a.keep_private_keys)
    uvicorn.run(make_app(prov, tokens, a.rate), host=a.host, port=a.port, log_level="warning",
                ssl_certfile=a.tls_cert, ssl_keyfile=a.tls_key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
