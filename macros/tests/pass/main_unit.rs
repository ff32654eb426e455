#[stevedore::main]
pub async fn main() {
    stevedore::yield_now().await;
}

mod more {
    #[stevedore::main(worker_threads = 1)]
    pub async fn never_returns() -> ! {
        std::process::exit(0)
    }
}
