"""Builds the stepledger Python client; the gRPC stubs are generated from proto/ here.

The messages and stubs are never checked in: build_py runs protoc with Debian's
grpc_python_plugin (package protobuf-compiler-grpc) over ../../proto/stepledger/v1/*.proto and
writes them into the build tree, so what is installed always matches the checkout's API.
STEPLEDGER_PROTO_DIR overrides where the .proto files are read from.
"""
import glob
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def _proto_dir():
    return os.environ.get("STEPLEDGER_PROTO_DIR") or os.path.join(HERE, "..", "..", "proto")


def generate_stubs(out_dir):
    """Runs protoc into out_dir (a tree holding the `stepledger` package)."""
    proto_dir = os.path.abspath(_proto_dir())
    protos = sorted(glob.glob(os.path.join(proto_dir, "stepledger", "v1", "*.proto")))
    if not protos:
        raise SystemExit(f"stepledger: no .proto files under {proto_dir}/stepledger/v1 "
                         "(build from a checkout, or set STEPLEDGER_PROTO_DIR)")
    protoc = shutil.which("protoc")
    plugin = shutil.which("grpc_python_plugin")
    if not protoc or not plugin:
        raise SystemExit("stepledger: protoc and grpc_python_plugin are needed to build this "
                         "package (Debian: apt-get install protobuf-compiler "
                         "protobuf-compiler-grpc)")
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run([protoc, f"--proto_path={proto_dir}", f"--python_out={out_dir}",
                    f"--grpc_python_out={out_dir}", f"--plugin=protoc-gen-grpc_python={plugin}",
                    *[os.path.relpath(p, proto_dir) for p in protos]], check=True)


class BuildPyWithStubs(build_py):
    def run(self):
        super().run()
        generate_stubs(self.build_lib)


setup(cmdclass={"build_py": BuildPyWithStubs})
