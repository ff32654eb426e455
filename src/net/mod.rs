//! TCP and Unix sockets for green tasks, driven by the runtime's reactor.
//!
//! * [`TcpListener::bind`]`(addr).await`, [`TcpListener::accept`],
//!   [`TcpStream::connect`]`(addr).await`, [`TcpStream::connect_timeout`];
//! * [`UnixListener::bind`]`(path)`, [`UnixStream::connect`]`(path).await`,
//!   [`UnixStream::pair`];
//! * streams have `read`, `write`, `write_all`, `shutdown`, address and
//!   option accessors, implement [`futures::io::AsyncRead`] and
//!   [`futures::io::AsyncWrite`], and split with `into_split()` into halves
//!   that two tasks can use at once.
//!
//! Sockets must be created inside a runtime (a task, `Runtime::block_on` or
//! `Runtime::enter`). Errors name what they were about: connecting to a
//! missing Unix socket is `ErrorKind::NotFound` with the path in the
//! message, a refused TCP connect names the address.
//!
//! ```
//! use futures::io::AsyncReadExt; // read_exact
//! use stevedore::net::{TcpListener, TcpStream};
//!
//! let rt = stevedore::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     stevedore::spawn(async move {
//!         let (mut conn, _) = listener.accept().await.unwrap();
//!         let mut buf = [0u8; 5];
//!         conn.read_exact(&mut buf).await.unwrap();
//!         conn.write_all(&buf).await.unwrap();
//!     });
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"hello").await.unwrap();
//!     let mut echo = [0u8; 5];
//!     client.read_exact(&mut echo).await.unwrap();
//!     assert_eq!(&echo, b"hello");
//! });
//! ```

mod addr;
mod split;
mod stream;
mod tcp;
mod unix;

pub use self::addr::ToSocketAddrs;
pub use self::split::{ReadHalf, ReuniteError, SplitStream, WriteHalf};
pub use self::tcp::{TcpListener, TcpStream};
pub use self::unix::{UnixListener, UnixStream};
pub use std::net::Shutdown;
