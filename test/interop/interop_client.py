#!/usr/bin/env python3
"""A Python client of raftex's public contract, built with Debian's python3-grpcio and
python3-protobuf from a FileDescriptorSet that `buf build` produced from proto/ (no TypeScript
involved). Deposits, trades and reads a portfolio; prints one JSON object with what it saw.

usage: interop_client.py <host:port> <descriptor-set.binpb> <run-id>
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

server, fds_path, run = sys.argv[1], sys.argv[2], sys.argv[3]

fds = descriptor_pb2.FileDescriptorSet()
with open(fds_path, "rb") as f:
    fds.ParseFromString(f.read())
pool = descriptor_pool.DescriptorPool()
for file_proto in fds.file:
    pool.Add(file_proto)


def message_class(descriptor):
    # protobuf >= 4.22 has GetMessageClass; Debian bookworm ships 4.21 with MessageFactory.
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


channel = grpc.insecure_channel(server)
grpc.channel_ready_future(channel).result(timeout=10)
service = pool.FindServiceByName("raftex.v1.ExchangeService")


def stub(method):
    m = service.FindMethodByName(method)
    req, res = message_class(m.input_type), message_class(m.output_type)
    call = channel.unary_unary(
        f"/raftex.v1.ExchangeService/{method}",
        request_serializer=req.SerializeToString,
        response_deserializer=res.FromString,
    )
    return lambda **fields: call(req(**fields), timeout=10)


side = pool.FindEnumTypeByName("raftex.v1.Side").values_by_name
order_type = pool.FindEnumTypeByName("raftex.v1.OrderType").values_by_name
status = pool.FindEnumTypeByName("raftex.v1.OrderStatus").values_by_number

deposit, submit, portfolio = stub("Deposit"), stub("SubmitOrder"), stub("GetPortfolio")
buyer, seller = f"py-buyer-{run}", f"py-seller-{run}"
out = {}
out["deposit_usd"] = deposit(account_id=buyer, asset="USD", amount="1000.00", request_id="py-d1").balance.available
out["deposit_aapl"] = deposit(account_id=seller, asset="AAPL", amount="10", request_id="py-d2").balance.available
sell = submit(account_id=seller, client_order_id="py-s1", symbol="AAPL", side=side["SIDE_SELL"].number,
              type=order_type["ORDER_TYPE_LIMIT"].number, quantity="4", price="101.50")
buy = submit(account_id=buyer, client_order_id="py-b1", symbol="AAPL", side=side["SIDE_BUY"].number,
             type=order_type["ORDER_TYPE_LIMIT"].number, quantity="3", price="102.00")
out["sell_status"] = status[sell.status].name
out["buy_status"] = status[buy.status].name
out["trades"] = [{"price": t.price, "quantity": t.quantity, "log_index": t.log_index} for t in buy.trades]
try:
    submit(account_id=buyer, client_order_id="py-b2", symbol="AAPL", side=side["SIDE_BUY"].number,
           type=order_type["ORDER_TYPE_LIMIT"].number, quantity="1.5", price="1.00")
    out["malformed"] = "OK"
except grpc.RpcError as e:
    out["malformed"] = e.code().name
p = portfolio(account_id=buyer)
out["buyer"] = {b.asset: {"available": b.available, "reserved": b.reserved} for b in p.balances}
p = portfolio(account_id=seller)
out["seller"] = {b.asset: {"available": b.available, "reserved": b.reserved} for b in p.balances}
print(json.dumps(out))
