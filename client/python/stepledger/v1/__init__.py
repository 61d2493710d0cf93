"""Messages and gRPC stubs of proto/stepledger/v1, generated when the package is built."""
