"""The floor: a bare Flask endpoint that authenticates nothing and inserts one row with the same driver."""

import json
import os

from flask import Flask, request
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))


@app.post("/floor")
def insert_one_row():
    body = request.get_json()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO bench_floor (client_id, body) VALUES (:client_id, :body)"),
                           {"client_id": body["client_id"], "body": json.dumps(body)})
    return {"stored": True}, 201
