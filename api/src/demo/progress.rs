//! Progress lines on standard output: one numbered line per step, indented details under it.
//! Plain lines, so that they read the same in a terminal, a CI log or a test's captured output.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Prints the steps of a walk-through of `total` steps.
#[derive(Debug)]
pub struct Progress {
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    /// A walk-through of `total` steps.
    pub fn new(total: usize) -> Self {
        Self {
            total,
            done: AtomicUsize::new(0),
        }
    }

    /// Starts the next step.
    pub fn step(&self, text: &str) {
        let number = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        print_line(&format!("[{number}/{}] {text}", self.total));
    }

    /// A detail of the current step.
    pub fn detail(&self, text: &str) {
        print_line(&format!("      {text}"));
    }

    /// A line outside the steps.
    pub fn say(&self, text: &str) {
        print_line(text);
    }
}

fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}
