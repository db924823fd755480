//! The gRPC contracts of passreset, compiled from `passreset/**/*.proto`.
//!
//! - [`token::v1`]: `TokenService` (issue, check, redeem) and the `AccountDirectory` admin
//!   service, with the `ErrorReason` values their errors carry.
//! - [`mail::v1`]: `MailService` (enqueue, status).
//! - [`directory::v1`]: `Directory`, which a platform implements to keep its own users.
//! - [`FILE_DESCRIPTOR_SET`]: every contract, for gRPC server reflection.
//!
//! Messages that carry a token or a password print it as `[redacted]` (see `redact.rs`).

mod redact;

/// Token issuing and the account directory.
pub mod token {
    /// Version 1 of the token contracts.
    pub mod v1 {
        tonic::include_proto!("passreset.token.v1");

        /// The `google.rpc.ErrorInfo.domain` of every error this package's services send.
        pub const ERROR_DOMAIN: &str = "passreset.token.v1";
    }
}

/// The mail dispatcher.
pub mod mail {
    /// Version 1 of the mail contract.
    pub mod v1 {
        tonic::include_proto!("passreset.mail.v1");
    }
}

/// The contract a platform implements to keep its own users (`TOKEN_DIRECTORY=grpc://`).
pub mod directory {
    /// Version 1 of the directory contract.
    pub mod v1 {
        tonic::include_proto!("passreset.directory.v1");
    }
}

/// Every contract passreset serves as an encoded `FileDescriptorSet`, for gRPC server
/// reflection (the directory contract, which the platform serves, is apart).
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("passreset_descriptor");

/// The directory contract as an encoded `FileDescriptorSet`, for a platform's implementation
/// that serves reflection.
pub const DIRECTORY_FILE_DESCRIPTOR_SET: &[u8] =
    tonic::include_file_descriptor_set!("passreset_directory_descriptor");
