//! Address resolution that never blocks a worker: literal addresses resolve
//! at once, host names on the blocking pool.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Things that resolve to socket addresses: `SocketAddr`s, `(ip, port)`,
/// `"host:port"` strings and `(host, port)` pairs. Host names are looked up
/// with `spawn_blocking`, so DNS never stalls a worker.
pub trait ToSocketAddrs: sealed::Sealed {
    #[doc(hidden)]
    fn __resolve(self) -> Resolve;
}

/// How an address resolves (not part of the public API).
#[doc(hidden)]
#[derive(Debug)]
pub enum Resolve {
    Ready(io::Result<Vec<SocketAddr>>),
    Lookup(String),
}

mod sealed {
    pub trait Sealed {}
}

pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    match addr.__resolve() {
        Resolve::Ready(r) => r,
        Resolve::Lookup(host) => {
            let what = host.clone();
            crate::spawn_blocking(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&host).map(Iterator::collect)
            })
            .await
            .map_err(io::Error::from)?
            .map_err(|e| io::Error::new(e.kind(), format!("resolving {what}: {e}")))
        }
    }
}

macro_rules! literal {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl ToSocketAddrs for $t {
            fn __resolve(self) -> Resolve {
                let $v = self;
                Resolve::Ready(Ok(vec![$e]))
            }
        }
    )*};
}

literal! {
    SocketAddr => |a| a,
    SocketAddrV4 => |a| SocketAddr::V4(a),
    SocketAddrV6 => |a| SocketAddr::V6(a),
    (IpAddr, u16) => |a| SocketAddr::new(a.0, a.1),
    (Ipv4Addr, u16) => |a| SocketAddr::new(IpAddr::V4(a.0), a.1),
    (Ipv6Addr, u16) => |a| SocketAddr::new(IpAddr::V6(a.0), a.1),
}

impl sealed::Sealed for &str {}
impl ToSocketAddrs for &str {
    fn __resolve(self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(a) => Resolve::Ready(Ok(vec![a])),
            Err(_) => Resolve::Lookup(self.to_owned()),
        }
    }
}

impl sealed::Sealed for String {}
impl ToSocketAddrs for String {
    fn __resolve(self) -> Resolve {
        self.as_str().__resolve()
    }
}

impl sealed::Sealed for (&str, u16) {}
impl ToSocketAddrs for (&str, u16) {
    fn __resolve(self) -> Resolve {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Resolve::Ready(Ok(vec![SocketAddr::new(ip, self.1)])),
            Err(_) => Resolve::Lookup(format!("{}:{}", self.0, self.1)),
        }
    }
}

impl sealed::Sealed for (String, u16) {}
impl ToSocketAddrs for (String, u16) {
    fn __resolve(self) -> Resolve {
        (self.0.as_str(), self.1).__resolve()
    }
}

impl sealed::Sealed for &[SocketAddr] {}
impl ToSocketAddrs for &[SocketAddr] {
    fn __resolve(self) -> Resolve {
        Resolve::Ready(Ok(self.to_vec()))
    }
}

impl<T: ToSocketAddrs + Copy> sealed::Sealed for &T {}
impl<T: ToSocketAddrs + Copy> ToSocketAddrs for &T {
    fn __resolve(self) -> Resolve {
        (*self).__resolve()
    }
}
