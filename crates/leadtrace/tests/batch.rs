//! `batch` over HTTP: command forms, halt, the 50-command cap, references and response shapes.

mod common;
use common::*;
use serde_json::{json, Value};
use store::Backend;

backend_tests!(
    list_and_object_commands,
    halt_and_php_truthiness,
    fifty_command_cap,
    nested_batch_and_bad_commands,
    references_between_commands,
    form_encoded_double_encoding,
    chained_paging_like_the_sdks,
);

fn maps(r: &Reply) -> &Value {
    let res = r.result();
    for k in [
        "result",
        "result_error",
        "result_total",
        "result_next",
        "result_time",
    ] {
        assert!(res.get(k).is_some(), "batch result lacks {k}: {res}");
    }
    res
}

async fn list_and_object_commands(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .call(
            "batch",
            json!({"cmd": ["server.time", "crm.lead.list?select[]=ID"]}),
        )
        .await;
    let res = maps(&r);
    assert!(res["result"].is_array());
    assert_eq!(res["result"].as_array().unwrap().len(), 2);
    assert_eq!(res["result_error"], json!([]));
    assert_eq!(res["result_next"], json!([]));
    // only the list command has a total: keys {1} → an object
    assert_eq!(res["result_total"], json!({"1": 0}));
    assert_eq!(res["result_time"].as_array().unwrap().len(), 2);
    assert_eq!(res["result_time"][0].as_object().unwrap().len(), 8);

    let r = app
        .call(
            "batch",
            json!({"CMD": {"t": "server.time", "l": "crm.lead.list"}}),
        )
        .await;
    let res = maps(&r);
    assert!(res["result"]["t"].is_string());
    assert_eq!(res["result"]["l"], json!([]));
    assert_eq!(res["result_total"], json!({"l": 0}));
}

async fn halt_and_php_truthiness(b: Backend) {
    let app = spawn_app(b).await;
    let cmd = json!({"a": "crm.lead.get?id=999999", "b": "server.time"});
    let r = app.call("batch", json!({"cmd": cmd, "halt": 0})).await;
    let res = maps(&r);
    assert_eq!(
        res["result_error"]["a"],
        json!({"error": "", "error_description": "Not found"})
    );
    assert!(res["result"]["b"].is_string());
    assert!(res["result_time"].get("a").is_none());
    for halt in [json!(1), json!(true), json!("false"), json!("N")] {
        let r = app.call("batch", json!({"cmd": cmd, "halt": halt})).await;
        let res = maps(&r);
        assert_eq!(res["result"], json!([]), "halt={halt}");
        assert_eq!(res["result_error"]["a"]["error_description"], "Not found");
    }
    for halt in [json!(0), json!("0"), json!(""), json!(false), Value::Null] {
        let r = app.call("batch", json!({"cmd": cmd, "halt": halt})).await;
        assert!(maps(&r)["result"]["b"].is_string(), "halt={halt}");
    }
}

async fn fifty_command_cap(b: Backend) {
    let app = spawn_app(b).await;
    let cmds: Vec<String> = (0..52).map(|_| "server.time".to_string()).collect();
    let r = app.call("batch", json!({"cmd": cmds})).await;
    let res = maps(&r);
    assert_eq!(res["result"].as_array().unwrap().len(), 50);
    let exceeded = json!({"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"});
    assert_eq!(res["result_error"], json!({"50": exceeded, "51": exceeded}));
    let r = app.call("batch", json!({"cmd": cmds, "halt": 1})).await;
    assert_eq!(maps(&r)["result_error"], json!({"50": exceeded}));
}

async fn nested_batch_and_bad_commands(b: Backend) {
    let app = spawn_app(b).await;
    let r = app.call("batch", json!({"cmd": {"n": "batch?cmd[0]=server.time", "u": "no.such.method", "x": 5, "ok": "server.time"}})).await;
    let res = maps(&r);
    assert_eq!(
        res["result_error"]["n"],
        json!({"error": "ERROR_BATCH_METHOD_NOT_ALLOWED", "error_description": "Method is not allowed for batch usage"})
    );
    assert_eq!(
        res["result_error"]["u"],
        json!({"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"})
    );
    assert_eq!(
        res["result_error"]["x"],
        json!({"error": "ERROR_CORE", "error_description": "Wrong batch command format"})
    );
    assert!(res["result"]["ok"].is_string());
    // scopes of the outer caller apply to every command
    let (_, hook) = app.user_with_rights("userscope", None, &["user"]).await;
    let r = app
        .call_at(
            &hook,
            "batch",
            json!({"cmd": ["crm.lead.list", "server.time"]}),
        )
        .await;
    let res = maps(&r);
    // keys {0} form a PHP list, keys {1} an object
    assert_eq!(res["result_error"][0]["error"], "insufficient_scope");
    assert_eq!(res["result"], json!({"1": res["result"]["1"].clone()}));
}

async fn references_between_commands(b: Backend) {
    let app = spawn_app(b).await;
    let r = app
        .call(
            "batch",
            json!({"cmd": {
                "add": "crm.lead.add?fields[TITLE]=Ref+lead&fields[NAME]=Ann",
                "get": "crm.lead.get?id=$result[add]",
                "list": "crm.lead.list?filter[ID]=$result[add]&select[]=ID&select[]=TITLE",
                "byname": "crm.lead.list?filter[NAME]=$result[list][0][TITLE]",
                "interp": "crm.lead.add?fields[TITLE]=copy+of+$result[get][TITLE]+($total[list])",
                "missing": "crm.lead.add?fields[TITLE]=x$result[nope][0]y",
                "fail": "crm.lead.get?id=0",
                "err": "crm.lead.add?fields[TITLE]=$error[fail][error_description]",
            }}),
        )
        .await;
    let res = maps(&r);
    assert!(res["result_error"].get("add").is_none(), "{res}");
    let id = res["result"]["add"].as_i64().unwrap();
    assert_eq!(res["result"]["get"]["ID"], json!(id.to_string()));
    assert_eq!(
        res["result"]["list"],
        json!([{"ID": id.to_string(), "TITLE": "Ref lead"}])
    );
    assert_eq!(res["result"]["byname"], json!([]));
    let title = |key: &str| {
        let id = res["result"][key].as_i64().unwrap();
        let app = &app;
        async move { app.call("crm.lead.get", json!({"id": id})).await.result()["TITLE"].clone() }
    };
    assert_eq!(title("interp").await, json!("copy of Ref lead (1)"));
    assert_eq!(title("missing").await, json!("xy"));
    assert_eq!(title("err").await, json!("ID is not defined or invalid."));
}

async fn form_encoded_double_encoding(b: Backend) {
    let app = spawn_app(b).await;
    let body = "cmd%5B0%5D=crm.lead.add%3Ffields%5BTITLE%5D%3DJohn%2526Martin&cmd%5B1%5D=crm.lead.get%3Fid%3D%24result%5B0%5D&halt=0";
    let r = app
        .post_raw(
            &format!("{}batch", app.hook),
            Some("application/x-www-form-urlencoded"),
            body,
        )
        .await;
    let res = maps(&r);
    assert_eq!(res["result"][1]["TITLE"], "John&Martin");
    // fast_bitrix24 style: inner keys encoded, brackets literal, trailing `&`
    let r = app.call("batch", json!({"halt": 0, "cmd": {"cmd0000000000": "crm.lead.list?filter[%3EID]=0&select[0]=TITLE&"}})).await;
    assert_eq!(
        maps(&r)["result"]["cmd0000000000"][0]["TITLE"],
        "John&Martin"
    );
}

async fn chained_paging_like_the_sdks(b: Backend) {
    let app = spawn_app(b).await;
    let cmds: Vec<String> = (0..120)
        .map(|i| format!("crm.lead.add?fields[TITLE]=page{i}"))
        .collect();
    for chunk in cmds.chunks(50) {
        let r = app.call("batch", json!({"cmd": chunk})).await;
        assert_eq!(maps(&r)["result_error"], json!([]));
    }
    // b24pysdk call_list_fast / PHP SDK: each command filters by the last id of the previous page
    let mut cmd = serde_json::Map::new();
    cmd.insert(
        "req_0".into(),
        json!("crm.lead.list?order[ID]=ASC&filter[>ID]=0&start=-1&select[0]=ID"),
    );
    for i in 1..3 {
        cmd.insert(
            format!("req_{i}"),
            json!(format!("crm.lead.list?order[ID]=ASC&filter[>ID]=$result[req_{}][49][ID]&start=-1&select[0]=ID", i - 1)),
        );
    }
    let r = app.call("batch", json!({"cmd": cmd, "halt": true})).await;
    let res = maps(&r);
    let mut ids = Vec::new();
    for i in 0..3 {
        let page = res["result"][format!("req_{i}")].as_array().unwrap();
        ids.extend(
            page.iter()
                .map(|x| x["ID"].as_str().unwrap().parse::<i64>().unwrap()),
        );
        assert_eq!(res["result_total"][format!("req_{i}")], json!(0));
    }
    assert_eq!(ids.len(), 120);
    let mut sorted = ids.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 120);
}
