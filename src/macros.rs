//! `select!` and its helpers.

/// Waits on several channel operations and futures at once and runs the arm
/// of the one that completes — Go's `select`.
///
/// ```text
/// select! {
///     <pattern> = <operation> => <body>,
///     <pattern> = <operation>, if <condition> => <body>,
///     default => <body>,
/// }
/// ```
///
/// * Operations are `rx.recv()`, `tx.send(v)`, or any other future (a
///   `sleep`, a `JoinHandle`, …). All are evaluated first; an arm whose
///   `if` condition is false is disabled (Go's nil channel).
/// * Among the arms that are ready, one is picked **uniformly at random**.
///   Exactly one channel operation takes effect: the others are withdrawn
///   without sending or receiving anything.
/// * With a `default` arm the select never waits. With no enabled arm and no
///   `default` it waits forever (Go's `select {}`).
/// * `rx.recv()` yields `Option<T>`: `None` means the channel is closed and
///   drained, so a closed channel is always ready (as in Go).
/// * Patterns must be irrefutable (bind the `Option` and `match` it in the
///   body, as with Go's `v, ok := <-ch`).
/// * Non-channel futures should be cancellation-safe: if one becomes ready
///   in the same instant a channel arm wins, its output is dropped. The
///   one-shot operations that would lose something that way take part like
///   channel operations and put it back instead: `&mut` a
///   `sync::oneshot::Receiver`, `Notify::notified()`, `JoinSet::join_next()`
///   and `Signal::recv()`.
///
/// ```
/// use std::time::Duration;
/// use stevedore::{chan, select, time::sleep, Runtime};
///
/// let rt = Runtime::new().unwrap();
/// rt.block_on(async {
///     let (tx, rx) = chan::bounded::<u32>(1);
///     let (_quit_tx, quit_rx) = chan::bounded::<()>(0);
///     tx.send(7).await.unwrap();
///     let got = select! {
///         v = rx.recv() => v,
///         _ = quit_rx.recv() => None,
///         _ = sleep(Duration::from_secs(1)) => None,
///     };
///     assert_eq!(got, Some(7));
///
///     let polled = select! {
///         v = rx.recv() => v,
///         default => None,
///     };
///     assert_eq!(polled, None);
/// });
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select_munch!(@{ arms: () default: () skip: () } $($tokens)*)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_munch {
    // All arms read.
    (@{ arms: $arms:tt default: $default:tt skip: $skip:tt }) => {
        $crate::__select_expand!(arms: $arms default: $default)
    };

    // default => body
    (@{ arms: $arms:tt default: () skip: $skip:tt } default => $body:block, $($rest:tt)*) => {
        $crate::__select_munch!(@{ arms: $arms default: ($body) skip: $skip } $($rest)*)
    };
    (@{ arms: $arms:tt default: () skip: $skip:tt } default => $body:block $($rest:tt)*) => {
        $crate::__select_munch!(@{ arms: $arms default: ($body) skip: $skip } $($rest)*)
    };
    (@{ arms: $arms:tt default: () skip: $skip:tt } default => $body:expr, $($rest:tt)*) => {
        $crate::__select_munch!(@{ arms: $arms default: ($body) skip: $skip } $($rest)*)
    };
    (@{ arms: $arms:tt default: () skip: $skip:tt } default => $body:expr) => {
        $crate::__select_munch!(@{ arms: $arms default: ($body) skip: $skip })
    };
    (@{ arms: $arms:tt default: ($($d:tt)+) skip: $skip:tt } default => $($rest:tt)*) => {
        ::core::compile_error!("select! takes at most one `default` arm")
    };

    // pattern = operation, if condition => body
    (@{ arms: ($($arms:tt)*) default: $default:tt skip: ($($s:tt)*) }
        $p:pat = $f:expr, if $c:expr => $body:block, $($rest:tt)*) => {
        $crate::__select_munch!(@{ arms: ($($arms)* [($($s)*) ($p) ($f) ($c) ($body)]) default: $default skip: ($($s)* _) } $($rest)*)
    };
    (@{ arms: ($($arms:tt)*) default: $default:tt skip: ($($s:tt)*) }
        $p:pat = $f:expr, if $c:expr => $body:block $($rest:tt)*) => {
        $crate::__select_munch!(@{ arms: ($($arms)* [($($s)*) ($p) ($f) ($c) ($body)]) default: $default skip: ($($s)* _) } $($rest)*)
    };
    (@{ arms: ($($arms:tt)*) default: $default:tt skip: ($($s:tt)*) }
        $p:pat = $f:expr, if $c:expr => $body:expr, $($rest:tt)*) => {
        $crate::__select_munch!(@{ arms: ($($arms)* [($($s)*) ($p) ($f) ($c) ($body)]) default: $default skip: ($($s)* _) } $($rest)*)
    };
    (@{ arms: ($($arms:tt)*) default: $default:tt skip: ($($s:tt)*) }
        $p:pat = $f:expr, if $c:expr => $body:expr) => {
        $crate::__select_munch!(@{ arms: ($($arms)* [($($s)*) ($p) ($f) ($c) ($body)]) default: $default skip: ($($s)* _) })
    };

    // pattern = operation => body
    (@{ arms: ($($arms:tt)*) default: $default:tt skip: ($($s:tt)*) }
        $p:pat = $f:expr => $body:block, $($rest:tt)*) => {
        $crate::__select_munch!(@{ arms: ($($arms)* [($($s)*) ($p) ($f) (true) ($body)]) default: $default skip: ($($s)* _) } $($rest)*)
    };
    (@{ arms: ($($arms:tt)*) default: $default:tt skip: ($($s:tt)*) }
        $p:pat = $f:expr => $body:block $($rest:tt)*) => {
        $crate::__select_munch!(@{ arms: ($($arms)* [($($s)*) ($p) ($f) (true) ($body)]) default: $default skip: ($($s)* _) } $($rest)*)
    };
    (@{ arms: ($($arms:tt)*) default: $default:tt skip: ($($s:tt)*) }
        $p:pat = $f:expr => $body:expr, $($rest:tt)*) => {
        $crate::__select_munch!(@{ arms: ($($arms)* [($($s)*) ($p) ($f) (true) ($body)]) default: $default skip: ($($s)* _) } $($rest)*)
    };
    (@{ arms: ($($arms:tt)*) default: $default:tt skip: ($($s:tt)*) }
        $p:pat = $f:expr => $body:expr) => {
        $crate::__select_munch!(@{ arms: ($($arms)* [($($s)*) ($p) ($f) (true) ($body)]) default: $default skip: ($($s)* _) })
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_expand {
    (arms: ($( [ ($($skip:tt)*) ($p:pat) ($f:expr) ($c:expr) ($body:expr) ] )*) default: ($($default:tt)*)) => {{
        #[allow(unused_imports)]
        use $crate::__private::select::{PickChannelArm as _, PickFutureArm as _, SelectArm as _};
        let __enabled: &[bool] = &[$( $c, )*];
        let __token = $crate::__private::select::Token::new();
        let (__winner, mut __outs) = {
            let mut __futs = ::core::pin::pin!(( $( (&$crate::__private::select::ArmPicker::new($f)).pick(), )* ));
            let mut __outs = ( $( $crate::__select_none!($($skip)*), )* );
            let __n = __enabled.len();
            let __has_default = $crate::__select_has!($($default)*);
            let __order = $crate::__private::select::random_order(__n);
            let __winner: usize = $crate::__private::poll_fn(|__cx| loop {
                let __decided = __token.winner();
                for __k in 0..__n {
                    let __i = match __decided {
                        ::core::option::Option::Some(__w) => __w,
                        ::core::option::Option::None => __order[__k] as usize,
                    };
                    if __i >= __n {
                        break;
                    }
                    if __decided.is_none() && !__enabled[__i] {
                        continue;
                    }
                    $(
                        if __i == $crate::__select_count!($($skip)*) {
                            #[allow(unused_variables)]
                            let ( $($skip,)* __fut, .. ) = $crate::__private::select::project(__futs.as_mut());
                            // SAFETY: `__token` is declared before `__futs`
                            // in this frame and never moved, so it outlives
                            // every arm (they are dropped, or leaked with the
                            // whole frame, first); each arm is always polled
                            // with this token and its own index.
                            let __polled = unsafe { __fut.poll_arm(__cx, &__token, __i) };
                            if let $crate::__private::Poll::Ready(__v) = __polled {
                                let ( $($skip,)* __out, .. ) = &mut __outs;
                                *__out = ::core::option::Option::Some(__v);
                                return $crate::__private::Poll::Ready(__i);
                            }
                        }
                    )*
                    if __decided.is_some() {
                        break;
                    }
                }
                if let ::core::option::Option::Some(__w) = __decided {
                    // The winner's operation is being completed by another
                    // thread, which wakes us when done.
                    return if __w >= __n {
                        $crate::__private::Poll::Ready(__w)
                    } else {
                        $crate::__private::Poll::Pending
                    };
                }
                if __token.winner().is_some() {
                    continue;
                }
                if __has_default {
                    if __token.try_claim(__n) {
                        return $crate::__private::Poll::Ready(__n);
                    }
                    continue;
                }
                return $crate::__private::Poll::Pending;
            }).await;
            (__winner, __outs)
        };
        $(
            if __winner == $crate::__select_count!($($skip)*) {
                let ( $($skip,)* __out, .. ) = &mut __outs;
                #[allow(clippy::let_unit_value)]
                let $p = __out.take().expect("select! arm without output");
                $body
            } else
        )*
        { $crate::__select_default!($($default)*) }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_count {
    () => { 0usize };
    (_ $($rest:tt)*) => { 1usize + $crate::__select_count!($($rest)*) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_none {
    ($($t:tt)*) => {
        ::core::option::Option::None
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_has {
    () => {
        false
    };
    ($($t:tt)+) => {
        true
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_default {
    () => {
        ::core::unreachable!("select! finished without a winning arm")
    };
    ($body:expr) => {
        $body
    };
}
