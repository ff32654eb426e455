#[stevedore::main]
async fn main<T>() {}
