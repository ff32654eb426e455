#[stevedore::main]
fn main() {}
