//! [`Users::connect`]: the directory `TOKEN_DIRECTORY` names, opened at startup (the SQL
//! directory's statements prepared, the gRPC one's TLS loaded), so a setting that cannot work
//! stops the service before it serves.

use std::sync::Arc;

use passreset_grpc_security::ClientTls;

use super::{
    External, Users,
    grpc::GrpcDirectory,
    setting::DirectorySetting,
    sql::{SqlDirectory, SqlSettings},
};
use crate::{
    Config, StartupError, Stores,
    accounts::{Directory, password::HashPool},
};

impl Users {
    /// The accounts of `config.directory`: the built-in directory over `stores`, or the
    /// platform's own with its resets guarded in `stores`. Argon2 work runs on `hashing`.
    pub(crate) async fn connect(
        config: &Config,
        stores: &Stores,
        hashing: &HashPool,
    ) -> Result<Users, StartupError> {
        let store: Arc<dyn super::ExternalDirectory> =
            match &config.directory {
                DirectorySetting::Redis => {
                    return Ok(Users::BuiltIn(Directory::new(
                        stores.account_store(),
                        hashing.clone(),
                        config.password_policy(),
                    )));
                }
                DirectorySetting::Grpc(url) => {
                    let tls = ClientTls::load(&config.directory_tls()?)?;
                    let directory = GrpcDirectory::new(url, config.directory_timeout, &tls)
                        .map_err(|reason| StartupError::Directory {
                            variable: "TOKEN_DIRECTORY",
                            reason,
                        })?;
                    Arc::new(directory)
                }
                DirectorySetting::Sql(url) => {
                    let settings = SqlSettings {
                        url,
                        lookup_sql: config.directory_lookup_sql.as_deref(),
                        update_sql: config.directory_update_sql.as_deref(),
                        hash: config.directory_hash,
                        timeout: config.directory_timeout,
                    };
                    let directory = SqlDirectory::connect(settings, hashing.clone())
                        .await
                        .map_err(|error| StartupError::Directory {
                            variable: error.variable,
                            reason: error.reason,
                        })?;
                    Arc::new(directory)
                }
            };
        Ok(Users::External(External {
            store,
            guards: stores.guard_store(),
        }))
    }
}
