#[stevedore::main]
struct Main;

fn main() {}
