//! The real `assay serve` as a child process: started on a fixed port and a simulated clock
//! that keeps running across restarts, killed with SIGKILL, stopped with SIGTERM, and checked
//! with `assay log verify`.

use assay_core::{Timestamp, TradingDay};
use assay_store::{AnyStore, LogStore, StoreLocation, ENTRIES_READ_MAX};
use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// 2026-01-31: January's last trading day, so within the test's first seconds the clock closes
/// a day and runs the month (with its settlement), and later closes February's days.
const SIMULATED_START_DAY: TradingDay = TradingDay(20_484);
/// Simulated seconds per real second: a trading day in three seconds.
const SIMULATED_SPEED: f64 = 86_400.0 / 3.0;
/// Longest a (re)started server may take to answer `/v1/health` (it replays the whole log).
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// Starts tried when the server exits before it is ready (say, the port not yet free).
const START_ATTEMPTS_MAX: u32 = 10;
/// Longest a graceful stop may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Ports tried for the listener: below Linux's ephemeral range, so no client connection can
/// hold the port while the server is down.
const PORT_FIRST: u16 = 20_000;
const PORTS_TRIED_MAX: u16 = 5_000;

/// Where the log lives: SQLite in the data directory, or a fresh PostgreSQL schema.
pub enum Store {
    Sqlite {
        dir: tempfile::TempDir,
    },
    Postgres {
        keys: tempfile::TempDir,
        url: String,
        schema: String,
        schema_url: String,
    },
}

impl Store {
    pub fn sqlite() -> Store {
        Store::Sqlite {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// A schema of this test's own, reached by the server through the URL's search_path.
    pub async fn postgres(url: &str) -> Store {
        let schema = format!("assay_kill_serve_{}", std::process::id());
        assay_store::PgStore::drop_schema(url, &schema)
            .await
            .expect("a leftover schema of this pid is dropped");
        assay_store::PgStore::open_in_schema(url, &schema)
            .await
            .expect("the schema is created")
            .close()
            .await;
        let separator = if url.contains('?') { '&' } else { '?' };
        Store::Postgres {
            keys: tempfile::tempdir().expect("a temporary directory"),
            url: url.to_string(),
            schema_url: format!("{url}{separator}options[search_path]={schema}"),
            schema,
        }
    }

    fn data(&self) -> &Path {
        match self {
            Store::Sqlite { dir } => dir.path(),
            Store::Postgres { keys, .. } => keys.path(),
        }
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["--data".to_string(), self.data().display().to_string()];
        if let Store::Postgres { schema_url, .. } = self {
            args.extend(["--database".to_string(), schema_url.clone()]);
        }
        args
    }

    fn location(&self) -> StoreLocation {
        match self {
            Store::Sqlite { dir } => StoreLocation::Sqlite {
                dir: dir.path().to_path_buf(),
            },
            Store::Postgres { schema_url, .. } => StoreLocation::Postgres {
                url: schema_url.clone(),
                schema: None,
            },
        }
    }
}

pub struct Server {
    store: Store,
    port: u16,
    child: Option<Child>,
    /// Server stderr, one file per start, kept apart from the data.
    logs: tempfile::TempDir,
    starts: u32,
    /// Real time at the first start: simulated time is a function of it, so it keeps running
    /// across restarts.
    clock_origin: Option<Instant>,
    http: reqwest::Client,
}

fn assay() -> Command {
    Command::new(env!("CARGO_BIN_EXE_assay"))
}

/// Ports this process has handed out, so its two tests (run in parallel) never pick the same
/// one before either server has bound it.
static PORTS_HANDED_OUT: AtomicU16 = AtomicU16::new(0);

fn free_port() -> u16 {
    let offset = (std::process::id() % u32::from(PORTS_TRIED_MAX)) as u16;
    (0..PORTS_TRIED_MAX)
        .map(|_| {
            let k = PORTS_HANDED_OUT.fetch_add(1, Ordering::SeqCst);
            PORT_FIRST + (offset + k % PORTS_TRIED_MAX) % PORTS_TRIED_MAX
        })
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port below the ephemeral range")
}

impl Server {
    pub fn new(store: Store) -> Server {
        Server {
            store,
            port: free_port(),
            child: None,
            logs: tempfile::tempdir().expect("a temporary directory"),
            starts: 0,
            clock_origin: None,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("an HTTP client builds"),
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The operator token `assay serve` created in the data directory at its first start.
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.store.data().join("admin.token"))
            .expect("assay serve wrote admin.token")
            .trim()
            .to_string()
    }

    fn log_path(&self) -> PathBuf {
        self.logs.path().join(format!("serve-{}.log", self.starts))
    }

    /// The end of the current run's stderr, for failure messages.
    fn log_tail(&self) -> String {
        let bytes = std::fs::read(self.log_path()).unwrap_or_default();
        String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(4_000)..]).into_owned()
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let origin = *self.clock_origin.get_or_insert_with(Instant::now);
        let simulated = origin.elapsed().as_secs_f64() * SIMULATED_SPEED;
        let start = Timestamp(SIMULATED_START_DAY.start().0 + 1_000_000 + (simulated * 1e6) as i64);
        let stderr = File::create(self.log_path()).expect("the server log file");
        let child = assay()
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(self.store.args())
            .args([
                "--clock",
                "simulated",
                "--speed",
                &SIMULATED_SPEED.to_string(),
            ])
            .args(["--start-micros", &start.0.to_string()])
            // Every client key sends one request at a time; no limit should bite.
            .args(["--rate-per-key", "100000"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("assay serve starts");
        self.child = Some(child);
    }

    /// Starts the server and waits until it answers `/v1/health` (replay done, listening).
    pub async fn start(&mut self) {
        for attempt in 1..=START_ATTEMPTS_MAX {
            self.spawn();
            let deadline = Instant::now() + READY_TIMEOUT;
            loop {
                let exited = self
                    .child
                    .as_mut()
                    .expect("just spawned")
                    .try_wait()
                    .expect("the child's status reads");
                if let Some(status) = exited {
                    self.child = None;
                    assert!(
                        attempt < START_ATTEMPTS_MAX,
                        "assay serve exited before it was ready ({status}), {attempt} times; \
                         stderr:\n{}",
                        self.log_tail()
                    );
                    eprintln!("assay serve exited before it was ready ({status}); starting again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    break;
                }
                let health = self
                    .http
                    .get(format!("{}/v1/health", self.base()))
                    .send()
                    .await;
                if health.is_ok_and(|response| response.status().is_success()) {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "assay serve did not come back within {READY_TIMEOUT:?}; stderr:\n{}",
                    self.log_tail()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// SIGKILL, and a check that the server was still running when it came.
    pub async fn kill(&mut self) {
        let mut child = self.child.take().expect("the server is running");
        if let Some(status) = child.try_wait().expect("the child's status reads") {
            panic!(
                "assay serve stopped by itself ({status}); stderr:\n{}",
                self.log_tail()
            );
        }
        child.kill().expect("SIGKILL is delivered");
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .expect("the wait finishes")
            .expect("the child is reaped");
        assert_eq!(status.signal(), Some(9), "killed with SIGKILL: {status}");
    }

    /// SIGTERM: a graceful stop must finish in-flight work and exit 0.
    pub async fn stop(&mut self) {
        let mut child = self.child.take().expect("the server is running");
        let sent = assay_kill_term(child.id());
        assert!(sent, "SIGTERM is delivered");
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("the child's status reads") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "assay serve did not stop within {STOP_TIMEOUT:?} of SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(
            status.success(),
            "assay serve failed its graceful stop ({status}); stderr:\n{}",
            self.log_tail()
        );
    }

    /// `assay log verify` on the data as it is now.
    pub async fn verify(&self) {
        let args = self.store.args();
        let output = tokio::task::spawn_blocking(move || {
            assay()
                .args(["log", "verify"])
                .args(args)
                .output()
                .expect("assay log verify runs")
        })
        .await
        .expect("verify finishes");
        assert!(
            output.status.success(),
            "assay log verify failed:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Every entry in the store, oldest first.
    pub async fn entries(&self) -> Vec<Vec<u8>> {
        let store = AnyStore::open(&self.store.location())
            .await
            .expect("the store opens");
        let size = store.head().await.expect("the head reads").size;
        let mut entries = Vec::with_capacity(size as usize);
        let mut start = 0;
        while start < size {
            let end = (start + ENTRIES_READ_MAX).min(size);
            entries.extend(store.entries(start, end).await.expect("entries read"));
            start = end;
        }
        store.close().await;
        entries
    }

    /// Drops the PostgreSQL schema this test created (temporary directories go by themselves).
    pub async fn clean_up(self) {
        if let Store::Postgres { url, schema, .. } = &self.store {
            assay_store::PgStore::drop_schema(url, schema)
                .await
                .expect("the test's schema is dropped");
        }
    }
}

/// Sends SIGTERM through `kill(1)` (the test has no libc binding of its own).
fn assay_kill_term(pid: u32) -> bool {
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .is_ok_and(|status| status.success())
}

impl Drop for Server {
    /// A failing test must not leave a server running.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
