def test_liveness_answers_whatever_the_host(client, settings):
    settings.ALLOWED_HOSTS = ["shop.example.com"]

    live = client.get("/health/live/", HTTP_HOST="127.0.0.1:8000")
    other = client.get("/api/v1/products/", HTTP_HOST="127.0.0.1:8000")

    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert other.status_code == 400  # every other path still validates the host
