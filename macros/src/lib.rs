//! `#[stevedore::main]` and `#[stevedore::test]`: run an `async fn` on a
//! fresh stevedore runtime. Use them through the `stevedore` crate, which
//! re-exports both; this crate only rewrites the function.
//!
//! Both expand to a plain `fn` with the same name, attributes, visibility
//! and return type, whose body builds a runtime
//! (`stevedore::__private::block_on_entry`) and blocks on the original body
//! as an `async` block. Misuse (a non-`async` function, arguments, generics,
//! an unknown or repeated option) is reported at the offending tokens, and
//! the function is replaced by an empty stub so no second error follows.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn, LitInt, LitStr, Path, ReturnType, Type};

/// Runs `async fn main` on a stevedore runtime.
///
/// ```
/// #[stevedore::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let answer = stevedore::spawn(async { 6 * 7 }).await?;
///     assert_eq!(answer, 42);
///     Ok(())
/// }
/// ```
///
/// The function becomes a plain `fn` that builds a runtime, blocks on the
/// body, and shuts the runtime down (cancelling tasks still running) when
/// the body returns. Any return type `main` may have is kept.
///
/// Options: `worker_threads = N` (default: `STEVEDORE_WORKER_THREADS`, else
/// one per CPU) and `crate = "path"` (where the `stevedore` crate is, for
/// re-exports):
///
/// ```
/// #[stevedore::main(worker_threads = 2)]
/// async fn main() {
///     assert_eq!(stevedore::Handle::current().num_workers(), 2);
/// }
/// ```
///
/// # Panics
///
/// The generated `main` panics if the runtime cannot start (no threads or
/// no epoll instance could be created).
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(args.into(), item.into(), Kind::Main).into()
}

/// Runs an `async fn` test on its own stevedore runtime.
///
/// ```
/// #[stevedore::test(worker_threads = 2)]
/// async fn sums() {
///     let h = stevedore::spawn(async { 1 + 1 });
///     assert_eq!(h.await.unwrap(), 2);
/// }
/// # fn main() {} // (doctests do not run #[test] functions)
/// ```
///
/// Takes the same options as [`main`]; other attributes (`#[should_panic]`,
/// `#[ignore]`) are kept.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(args.into(), item.into(), Kind::Test).into()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[stevedore::main]",
            Kind::Test => "#[stevedore::test]",
        }
    }
}

struct Options {
    worker_threads: Option<LitInt>,
    crate_path: Option<Path>,
}

fn parse_options(args: TokenStream2, kind: Kind) -> syn::Result<Options> {
    let mut opts = Options {
        worker_threads: None,
        crate_path: None,
    };
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("worker_threads") {
            if opts.worker_threads.is_some() {
                return Err(meta.error("`worker_threads` is given twice"));
            }
            let lit: LitInt = meta.value()?.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "`worker_threads` takes a positive integer literal, as in `worker_threads = 4`",
                )
            })?;
            match lit.base10_parse::<usize>() {
                Ok(n) if n > 0 => {}
                _ => {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`worker_threads` must be at least 1",
                    ))
                }
            }
            opts.worker_threads = Some(lit);
            Ok(())
        } else if meta.path.is_ident("crate") {
            if opts.crate_path.is_some() {
                return Err(meta.error("`crate` is given twice"));
            }
            let lit: LitStr = meta.value()?.parse()?;
            opts.crate_path = Some(lit.parse()?);
            Ok(())
        } else if meta.path.is_ident("flavor") {
            Err(meta.error(
                "stevedore has a single, work-stealing runtime flavour: remove `flavor` \
                 (use `worker_threads = 1` for one worker thread)",
            ))
        } else {
            let name = meta.path.to_token_stream().to_string().replace(' ', "");
            Err(meta.error(format!(
                "unknown option `{name}` for {}; expected `worker_threads = N` or \
                 `crate = \"path\"`",
                kind.attr()
            )))
        }
    });
    parser.parse2(args)?;
    Ok(opts)
}

fn entry(args: TokenStream2, item: TokenStream2, kind: Kind) -> TokenStream2 {
    let input: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let err = syn::Error::new(
                Span::call_site(),
                format!("{} applies to an `async fn`", kind.attr()),
            );
            let mut out = err.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let checked = parse_options(args, kind).and_then(|opts| {
        check_signature(&input, kind)?;
        Ok(opts)
    });
    match checked {
        Ok(opts) => expand(input, opts, kind),
        Err(err) => {
            // A stub with the same name keeps the rest of the crate compiling
            // (no "main not found"), so the user sees only our error.
            let ident = &input.sig.ident;
            let mut out = err.to_compile_error();
            out.extend(quote! {
                #[allow(dead_code)]
                fn #ident() {}
            });
            out
        }
    }
}

fn check_signature(input: &ItemFn, kind: Kind) -> syn::Result<()> {
    let sig = &input.sig;
    let what = match kind {
        Kind::Main if sig.ident == "main" => "the `main` function",
        Kind::Main => "a function under #[stevedore::main]",
        Kind::Test => "a test",
    };
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!(
                "the `async` keyword is missing from the function declaration: {} applies to \
                 an `async fn`",
                kind.attr()
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!("{what} cannot accept arguments"),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            sig.generics.span(),
            format!("{what} cannot be generic"),
        ));
    }
    if let Some(c) = &sig.constness {
        return Err(syn::Error::new(
            c.span(),
            format!("{what} cannot be `const`"),
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(syn::Error::new(
            v.span(),
            format!("{what} cannot be variadic"),
        ));
    }
    if kind == Kind::Test {
        if let Some(attr) = input.attrs.iter().find(|a| is_test_attr(a)) {
            return Err(syn::Error::new(
                attr.span(),
                "a second test attribute is given: #[stevedore::test] already marks this \
                 function as a test",
            ));
        }
    }
    Ok(())
}

fn is_test_attr(attr: &Attribute) -> bool {
    // `#[test]`, `#[core::prelude::v1::test]`, `#[tokio::test]`, a second
    // `#[stevedore::test]`: any of them would make a second test.
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "test")
}

fn expand(input: ItemFn, opts: Options, kind: Kind) -> TokenStream2 {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = input;
    let crate_path = opts
        .crate_path
        .map(|p| p.to_token_stream())
        .unwrap_or_else(|| quote!(::stevedore));
    let workers = match opts.worker_threads {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let ident = &sig.ident;
    let ret = &sig.output;
    let unsafety = &sig.unsafety;
    let abi = &sig.abi;
    // The body's value is bound with the declared type, so a wrong value
    // is reported at the value itself, as in a plain `fn`. (`!` and
    // `impl Trait` cannot be written in a `let`; those go unannotated.)
    let annotated = match &sig.output {
        ReturnType::Type(_, ty) => !matches!(**ty, Type::Never(_) | Type::ImplTrait(_)),
        ReturnType::Default => true,
    };
    let body = if annotated {
        quote_spanned! {block.span()=>
            #crate_path::__private::block_on_entry::<#output, _>(#workers, async move {
                #[allow(clippy::let_and_return, clippy::let_unit_value, clippy::diverging_sub_expression)]
                let __stevedore_ret: #output = #block;
                #[allow(unreachable_code, clippy::needless_return)]
                return __stevedore_ret;
            })
        }
    } else {
        quote_spanned! {block.span()=>
            #crate_path::__private::block_on_entry(#workers, async move #block)
        }
    };
    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => quote!(),
    };
    quote! {
        #test_attr
        #(#attrs)*
        #vis #unsafety #abi fn #ident() #ret {
            #body
        }
    }
}
