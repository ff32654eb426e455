//! A minimal queue scheduler that drives real tasks, so `loom-tests/` can
//! model the task state machine without a whole runtime. Only compiled
//! under `cfg(stevedore_loom)`.

use super::list::OWNER_NONE;
use super::{new_task, JoinHandle, Notified, Schedule, Task};
use crate::loom::sync::{Arc, Mutex};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;

/// A run queue of tasks; clone it to share.
#[derive(Clone)]
pub struct TaskQueue {
    inner: Arc<Mutex<VecDeque<Notified<TaskQueue>>>>,
}

impl Schedule for TaskQueue {
    fn schedule(&self, task: Notified<Self>) {
        self.inner.lock().push_back(task);
    }

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

impl TaskQueue {
    /// An empty queue.
    pub fn new() -> TaskQueue {
        TaskQueue {
            inner: Arc::new(Mutex::new(VecDeque::new())),
        }
    }

    /// Creates a task and queues it.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = new_task(future, self.clone(), OWNER_NONE);
        drop(task); // no owned list here
        self.schedule(notified);
        join
    }

    /// Runs the next queued task; false if the queue was empty.
    pub fn run_one(&self) -> bool {
        let next = self.inner.lock().pop_front();
        match next {
            Some(task) => {
                task.run();
                true
            }
            None => false,
        }
    }

    /// Runs queued tasks until the queue is empty.
    pub fn run_all(&self) {
        while self.run_one() {}
    }

    /// Cancels every queued task (as runtime shutdown does).
    pub fn shutdown(&self) {
        loop {
            let next = self.inner.lock().pop_front();
            match next {
                Some(task) => task.shutdown(),
                None => break,
            }
        }
    }
}

impl fmt::Debug for TaskQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TaskQueue")
    }
}
