//! A fresh database per test, created from the shared server and dropped when the test ends,
//! even when it panics.

use sqlx::{Connection, Executor, PgConnection, PgPool};
use url::Url;

/// The server tests create their databases on.
pub fn admin_url() -> String {
    std::env::var("PREPSYNC_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    pool: PgPool,
}

impl TestDatabase {
    /// Creates and migrates a new database.
    pub async fn create() -> Self {
        let db = Self::create_empty().await;
        infrastructure::database::migrate(&db.pool)
            .await
            .expect("migrations apply");
        db
    }

    /// Creates a new database without migrating it.
    pub async fn create_empty() -> Self {
        let name = format!("prepsync_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url())
            .await
            .expect("the test PostgreSQL server answers (see README: Running the tests)");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("test database created");
        let _ = admin.close().await;

        let url = database_url(&name);
        let pool = infrastructure::database::connect(&url, 5)
            .await
            .expect("test database reachable");
        Self { name, url, pool }
    }

    /// A pool on this database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// This database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

fn database_url(name: &str) -> String {
    let mut url = Url::parse(&admin_url()).expect("PREPSYNC_TEST_DATABASE_URL is a URL");
    url.set_path(name);
    url.to_string()
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async move {
                    if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = admin.execute(sql.as_str()).await;
                    }
                });
            }
        });
        let _ = dropper.join();
    }
}
