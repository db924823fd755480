//! `TOKEN_DIRECTORY=postgres://` and `mysql://`: the persona and Metal flows against a users
//! table of the test's own shape, in a database the test creates and drops, with the written
//! password checked by the implementation a platform's login would use (argon2-cffi, bcrypt,
//! Django's `check_password`).

use reqwest::StatusCode;
use sqlx::{Connection as _, Executor as _, Row as _};

use crate::{
    helpers::{TestApp, spawn_app_with, token_in},
    python::{Venv, run_client},
};

const EMAIL: &str = "Grace.Hopper@example.com";
const NEW_PASSWORD: &str = "correct horse battery staple";

/// The server the test's database is on.
#[derive(Clone, Copy, Debug)]
enum Server {
    Postgres,
    MariaDb,
}

/// A fresh database with a users table of this test's shape, dropped with this value.
struct Database {
    server: Server,
    name: String,
}

impl Server {
    fn admin_url(self) -> &'static str {
        match self {
            Self::Postgres => "postgres://postgres@127.0.0.1:5432/test",
            Self::MariaDb => "mysql://root@127.0.0.1:3306/test",
        }
    }

    fn url_of(self, database: &str) -> String {
        match self {
            Self::Postgres => format!("postgres://postgres@127.0.0.1:5432/{database}"),
            Self::MariaDb => format!("mysql://root@127.0.0.1:3306/{database}"),
        }
    }

    /// The table, one account, and the two statements the platform would configure.
    fn schema(self) -> (&'static [&'static str], &'static str, &'static str) {
        match self {
            Self::Postgres => (
                &[
                    "CREATE TABLE members (member_no serial PRIMARY KEY, mail text NOT NULL, \
                     lang text, pw text NOT NULL, pw_changed timestamptz)",
                    "INSERT INTO members (mail, lang, pw) VALUES \
                     ('Grace.Hopper@example.com', 'sv', 'legacy'), ('other@example.com', NULL, 'legacy')",
                ],
                "SELECT member_no::text AS id, mail AS email, lang AS locale, pw AS password_hash \
                 FROM members WHERE lower(mail) = lower(:email)",
                "UPDATE members SET pw = :password_hash, pw_changed = now() \
                 WHERE member_no::text = :account_id",
            ),
            Self::MariaDb => (
                &[
                    "CREATE TABLE people (uid VARCHAR(36) PRIMARY KEY, address VARCHAR(255) NOT NULL, \
                     locale VARCHAR(16), secret VARCHAR(255) NOT NULL, note VARCHAR(64))",
                    "INSERT INTO people VALUES \
                     ('p-7', 'Grace.Hopper@example.com', 'en', 'legacy', NULL), \
                     ('p-8', 'other@example.com', NULL, 'legacy', NULL)",
                ],
                "SELECT uid AS id, address AS email, locale, secret AS password_hash \
                 FROM people WHERE address = :email",
                "UPDATE people SET secret = :password_hash, note = 'reset: by passreset' \
                 WHERE uid = :account_id",
            ),
        }
    }
}

impl Database {
    async fn create(server: Server) -> Self {
        let name = format!("passreset_{}", uuid::Uuid::new_v4().simple());
        admin(server, &format!("CREATE DATABASE {name}")).await;
        let database = Self { server, name };
        let (statements, _, _) = server.schema();
        for statement in statements {
            database.execute(statement).await;
        }
        database
    }

    fn url(&self) -> String {
        self.server.url_of(&self.name)
    }

    async fn execute(&self, sql: &str) {
        match self.server {
            Server::Postgres => {
                let mut connection = sqlx::PgConnection::connect(&self.url()).await.unwrap();
                connection.execute(sql).await.unwrap();
            }
            Server::MariaDb => {
                let mut connection = sqlx::MySqlConnection::connect(&self.url()).await.unwrap();
                connection.execute(sql).await.unwrap();
            }
        }
    }

    /// The stored hash of the account with `email`.
    async fn hash_of(&self, email: &str) -> String {
        match self.server {
            Server::Postgres => {
                let mut connection = sqlx::PgConnection::connect(&self.url()).await.unwrap();
                sqlx::query("SELECT pw FROM members WHERE mail = $1")
                    .bind(email)
                    .fetch_one(&mut connection)
                    .await
                    .unwrap()
                    .get::<String, _>(0)
            }
            Server::MariaDb => {
                let mut connection = sqlx::MySqlConnection::connect(&self.url()).await.unwrap();
                sqlx::query("SELECT secret FROM people WHERE address = ?")
                    .bind(email)
                    .fetch_one(&mut connection)
                    .await
                    .unwrap()
                    .get::<String, _>(0)
            }
        }
    }
}

/// Dropped even when the test fails: the database goes with it.
impl Drop for Database {
    fn drop(&mut self) {
        let server = self.server;
        let statement = match server {
            Server::Postgres => format!("DROP DATABASE {} WITH (FORCE)", self.name),
            Server::MariaDb => format!("DROP DATABASE {}", self.name),
        };
        // Its own runtime on its own thread: this may run inside the test's runtime.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(admin(server, &statement));
        })
        .join();
    }
}

async fn admin(server: Server, sql: &str) {
    match server {
        Server::Postgres => {
            let mut connection = sqlx::PgConnection::connect(server.admin_url())
                .await
                .unwrap();
            connection.execute(sql).await.unwrap();
        }
        Server::MariaDb => {
            let mut connection = sqlx::MySqlConnection::connect(server.admin_url())
                .await
                .unwrap();
            connection.execute(sql).await.unwrap();
        }
    }
}

async fn spawn_app_over(database: &Database, hash: &str) -> TestApp {
    let (_, lookup, update) = database.server.schema();
    let url = database.url();
    spawn_app_with(&[
        "--directory",
        &url,
        "--directory-lookup-sql",
        lookup,
        "--directory-update-sql",
        update,
        "--directory-hash",
        hash,
    ])
    .await
}

/// Whether the platform's own implementation of `hash` accepts `password` for `stored`.
async fn platform_accepts(hash: &str, stored: &str, password: &str) -> bool {
    let checked = run_client(
        Venv::Hashes,
        "hash_check.py",
        &[hash],
        &[("HASH", stored), ("PASSWORD", password)],
    )
    .await;
    checked["valid"].as_bool().expect("a verdict")
}

/// persona: forgot, the mailed link, reset; the hash the platform's login reads accepts the
/// new password only; VerifyPassword agrees; the other account is untouched.
async fn persona_flow(server: Server, hash: &str) {
    let database = Database::create(server).await;
    let app = spawn_app_over(&database, hash).await;

    assert_eq!(
        app.forgot(&EMAIL.to_lowercase()).await.status(),
        StatusCode::NO_CONTENT
    );
    let mail = app.mail_number(1).await;
    assert_eq!(mail.recipients, vec!["Grace.Hopper@example.com".to_owned()]);
    let token = token_in(&mail);
    assert_eq!(
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    let stored = database.hash_of(EMAIL).await;
    assert!(
        platform_accepts(hash, &stored, NEW_PASSWORD).await,
        "{stored}"
    );
    assert!(!platform_accepts(hash, &stored, "correct horse battery stapler").await);
    assert!(app.password_verifies(EMAIL, NEW_PASSWORD).await);
    assert!(
        !app.password_verifies(EMAIL, "not the password at all")
            .await
    );
    assert!(
        !app.password_verifies("nobody@example.com", NEW_PASSWORD)
            .await
    );
    assert_eq!(database.hash_of("other@example.com").await, "legacy");
    assert!(
        app.reset(&token, NEW_PASSWORD, NEW_PASSWORD)
            .await
            .status()
            .is_client_error()
    );
    app.stop().await;
}

/// Metal: the API-keyed request, the token in X-Auth-Token, a generated password that the
/// platform's login accepts.
async fn metal_flow(server: Server, hash: &str) {
    let database = Database::create(server).await;
    let app = spawn_app_over(&database, hash).await;

    let new_password = app.metal_generated_password(EMAIL, 1).await;
    let stored = database.hash_of(EMAIL).await;
    assert!(
        platform_accepts(hash, &stored, &new_password).await,
        "{stored}"
    );
    app.stop().await;
}

#[tokio::test]
async fn persona_on_postgres_writes_an_argon2id_hash_that_argon2_cffi_accepts() {
    persona_flow(Server::Postgres, "argon2id").await;
}

#[tokio::test]
async fn persona_on_postgres_writes_a_django_hash_that_django_accepts() {
    persona_flow(Server::Postgres, "django-pbkdf2").await;
}

#[tokio::test]
async fn metal_on_postgres_writes_a_bcrypt_hash_that_bcrypt_accepts() {
    metal_flow(Server::Postgres, "bcrypt").await;
}

#[tokio::test]
async fn persona_on_mariadb_writes_a_bcrypt_hash_that_bcrypt_accepts() {
    persona_flow(Server::MariaDb, "bcrypt").await;
}

#[tokio::test]
async fn metal_on_mariadb_writes_a_django_hash_that_django_accepts() {
    metal_flow(Server::MariaDb, "django-pbkdf2").await;
}

#[tokio::test]
async fn metal_on_mariadb_writes_an_argon2id_hash_that_argon2_cffi_accepts() {
    metal_flow(Server::MariaDb, "argon2id").await;
}

/// The error the token service stops with for these statements.
async fn start_error(database: &Database, lookup: &str, update: &str) -> String {
    use clap::Parser as _;
    let redis = passreset_testkit::test_redis().await;
    let url = database.url();
    let config = token_service::Config::try_parse_from([
        "token-service",
        "--redis-url",
        &redis.url,
        "--redis-key-prefix",
        &redis.prefix,
        "--grpc-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
        "--directory",
        &url,
        "--directory-lookup-sql",
        lookup,
        "--directory-update-sql",
        update,
    ])
    .unwrap();
    token_service::Application::build(config)
        .await
        .expect_err("the start is refused")
        .to_string()
}

#[tokio::test]
async fn a_statement_with_a_typo_stops_the_start_naming_its_variable() {
    for server in [Server::Postgres, Server::MariaDb] {
        let database = Database::create(server).await;
        let (_, lookup, update) = server.schema();
        let cases = [
            (
                lookup
                    .replace("password_hash", "password_hsah")
                    .replace("AS id", "AS ident"),
                update.to_owned(),
                "TOKEN_DIRECTORY_LOOKUP_SQL: ",
                "`id`",
            ),
            (
                lookup.replace(":email", ":mail"),
                update.to_owned(),
                "TOKEN_DIRECTORY_LOOKUP_SQL: ",
                ":mail",
            ),
            (
                lookup.to_owned(),
                update.replace("WHERE", "WHER"),
                "TOKEN_DIRECTORY_UPDATE_SQL: ",
                "",
            ),
            (
                lookup.replace("FROM", "FROM no_such_"),
                update.to_owned(),
                "TOKEN_DIRECTORY_LOOKUP_SQL: ",
                "",
            ),
        ];
        for (lookup, update, variable, names) in cases {
            let error = start_error(&database, &lookup, &update).await;
            assert!(error.starts_with(variable), "{server:?}: {error}");
            assert!(error.contains(names), "{server:?}: {error}");
        }
    }
}

#[tokio::test]
async fn an_update_that_would_change_two_rows_is_rolled_back_and_the_token_stays_usable() {
    let database = Database::create(Server::Postgres).await;
    let (_, lookup, _) = Server::Postgres.schema();
    let url = database.url();
    let app = spawn_app_with(&[
        "--directory",
        &url,
        "--directory-lookup-sql",
        lookup,
        "--directory-update-sql",
        "UPDATE members SET pw = :password_hash \
         WHERE member_no::text = :account_id OR mail = 'other@example.com'",
    ])
    .await;
    assert_eq!(app.forgot(EMAIL).await.status(), StatusCode::NO_CONTENT);
    let token = token_in(&app.mail_number(1).await);
    let failed = app.reset(&token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(database.hash_of(EMAIL).await, "legacy");
    assert_eq!(database.hash_of("other@example.com").await, "legacy");
    assert_eq!(
        app.check_token(&token).await.status(),
        StatusCode::NO_CONTENT
    );
    app.stop().await;
}
