//! What a call can fail with, and the one place those failures become `tonic::Status`.
//!
//! Policy: invalid requests get INVALID_ARGUMENT with a short fixed text naming the field; an
//! unknown message id is NOT_FOUND; a queue failure is logged here with its detail and answered
//! UNAVAILABLE with a generic text. No variant holds a recipient, a link or mail content.

use tonic::Status;

use crate::queue::QueueError;

/// Everything a mail-service call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field is missing or unusable; the text names it.
    #[error("{0}")]
    InvalidArgument(&'static str),
    /// No message has this id, or it was forgotten after its retention time.
    #[error("unknown message id")]
    NotFound,
    /// The queue could not be read or written.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidArgument(text) => Status::invalid_argument(text),
            Error::NotFound => Status::not_found("unknown message id"),
            Error::Queue(QueueError::Full) => {
                tracing::warn!("mail queue full: refusing new mail");
                Status::resource_exhausted("the mail queue is full; try again later")
            }
            Error::Queue(error) => {
                tracing::error!(%error, "mail queue unavailable");
                Status::unavailable("the mail queue is unavailable")
            }
        }
    }
}
