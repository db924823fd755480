//! The gRPC plumbing both services set up the same way: server reflection over their contracts
//! (so grpcurl-style tools need no .proto files) and the error a server stops with.

use tonic_reflection::server::{v1, v1alpha};

/// Why a running gRPC server stopped other than by its shutdown signal.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The reflection service could not read a descriptor set.
    #[error("grpc reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("grpc server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// gRPC server reflection over `contracts` (an encoded `FileDescriptorSet`) and the health
/// service's own, as `grpc.reflection.v1` and `grpc.reflection.v1alpha` (to add side by side):
/// Python's grpcio-reflection, Postman and older grpcurl speak only v1alpha.
pub fn reflection(
    contracts: &'static [u8],
) -> Result<
    (
        v1::ServerReflectionServer<impl v1::ServerReflection>,
        v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>,
    ),
    ServeError,
> {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(contracts)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    Ok((builder().build_v1()?, builder().build_v1alpha()?))
}
