//! A running `prepsync` process whose output the test can read. Tests pass the binary's path
//! (`env!("CARGO_BIN_EXE_prepsync-under-test")`, the same command line as `prepsync`, built
//! by the same `cargo test`).

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `prepsync` process whose standard output and error are collected.
#[derive(Debug)]
pub struct ServiceProcess {
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl ServiceProcess {
    /// Starts `binary` with these arguments and environment (nothing inherited but PATH), in
    /// the temporary folder so that no `.env` file is read.
    pub fn start(binary: &str, args: &[&str], env: &[(&str, String)]) -> Self {
        let mut command = Command::new(binary);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("prepsync starts");
        let output = Arc::new(Mutex::new(String::new()));
        let readers = [
            collect(child.stdout.take(), output.clone()),
            collect(child.stderr.take(), output.clone()),
        ];
        Self {
            child,
            output,
            readers: readers.into_iter().flatten().collect(),
        }
    }
    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        self.output
            .lock()
            .map(|text| text.clone())
            .unwrap_or_default()
    }

    /// Waits until the output contains `text`, or panics after `timeout`.
    pub fn wait_for_output(&self, text: &str, timeout: Duration) {
        let start = Instant::now();
        while !self.output().contains(text) {
            assert!(
                start.elapsed() < timeout,
                "no {text:?} in output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends a signal (e.g. `TERM`) to the process.
    pub fn signal(&self, name: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status();
    }

    /// Waits for the process to exit, up to `timeout`; its exit code, or `None` if it did not.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.readers.drain(..).for_each(|reader| {
                    let _ = reader.join();
                });
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

fn collect(
    stream: Option<impl std::io::Read + Send + 'static>,
    output: Arc<Mutex<String>>,
) -> Option<std::thread::JoinHandle<()>> {
    let mut stream = stream?;
    Some(std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(read) = stream.read(&mut buffer) {
            if read == 0 {
                break;
            }
            if let Ok(mut text) = output.lock() {
                text.push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        }
    }))
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
