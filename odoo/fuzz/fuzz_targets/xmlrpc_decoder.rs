//! Any body: the XML-RPC decoder and the answer classification never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odoo_client::answer::{interpret, HttpAnswer};
use odoo_client::codec::xmlrpc;
use odoo_client::WireProtocol;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = xmlrpc::decode_response(text);
    }
    let answer = HttpAnswer {
        status: 200,
        content_type: Some("text/xml; charset=utf-8".into()),
        body: data.to_vec(),
        ..HttpAnswer::default()
    };
    let _ = interpret(WireProtocol::XmlRpc, &answer);
});
