//! Any body: the JSON-RPC and JSON-2 decoders and the answer classification never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odoo_client::answer::{interpret, HttpAnswer};
use odoo_client::codec::jsonrpc;
use odoo_client::WireProtocol;

fuzz_target!(|data: &[u8]| {
    let _ = jsonrpc::decode_response(data);
    for (status, protocol) in [(200, WireProtocol::JsonRpc), (500, WireProtocol::Json2)] {
        let answer = HttpAnswer {
            status,
            content_type: Some("application/json; charset=utf-8".into()),
            body: data.to_vec(),
            ..HttpAnswer::default()
        };
        let _ = interpret(protocol, &answer);
    }
});
