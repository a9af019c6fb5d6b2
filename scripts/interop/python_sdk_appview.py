"""The Python atproto SDK as a Bluesky app would use it, through a PDS that
proxies app.bsky.* to an AppView (scripts/interop/appview_standin.py).

Usage:
  python_sdk_appview.py PDS_URL HANDLE PASSWORD APPVIEW_DID

Logs in with the default arguments (which fetches the profile through the
proxy), posts, posts a real PNG, makes the PNG the avatar, reads the
timeline, writes and reads preferences, and calls the AppView with an
explicit atproto-proxy header (and with atproto-accept-labelers). Prints one
JSON object with what each step returned.
"""
import json
import struct
import sys
import zlib

from atproto import Client, models


def png(width=4, height=4):
    """A real PNG: signature, IHDR, one IDAT of RGB rows, IEND, each with its CRC."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes([200, 40, 40]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def main(url, handle, password, appview_did):
    client = Client(base_url=url.rstrip("/") + "/xrpc")
    me = client.login(handle, password)
    did = me.did
    post = client.send_post("Hello through the proxy")
    picture = png()
    image_post = client.send_image(text="A real PNG", image=picture, image_alt="a red square")
    image_record = client.com.atproto.repo.get_record(
        models.ComAtprotoRepoGetRecord.Params(repo=did, collection="app.bsky.feed.post", rkey=image_post.uri.split("/")[-1]))
    image_blob = image_record.value.embed.images[0].image

    avatar = client.com.atproto.repo.upload_blob(picture)
    profile = client.com.atproto.repo.put_record(models.ComAtprotoRepoPutRecord.Data(
        repo=did, collection="app.bsky.actor.profile", rkey="self",
        record={"$type": "app.bsky.actor.profile", "displayName": "Py", "avatar": avatar.blob.model_dump(by_alias=True)}))

    timeline = client.get_timeline()
    client.app.bsky.actor.put_preferences(models.AppBskyActorPutPreferences.Data(preferences=[
        models.AppBskyActorDefs.AdultContentPref(enabled=True),
        models.AppBskyActorDefs.SavedFeedsPrefV2(items=[models.AppBskyActorDefs.SavedFeed(
            id="home", type="timeline", value="following", pinned=True)]),
    ]))
    preferences = client.app.bsky.actor.get_preferences()

    proxied = client.with_proxy("standin_other", appview_did).with_labelers(["did:plc:labelerone"])
    other = proxied.app.bsky.actor.get_profile(models.AppBskyActorGetProfile.Params(actor=did))

    print(json.dumps({
        "did": did,
        "me_handle": me.handle,
        "me_display_name": me.display_name,
        "post_uri": post.uri,
        "image_post_uri": image_post.uri,
        "image_mime": image_blob.mime_type,
        "image_size": image_blob.size,
        "png_size": len(picture),
        "avatar_mime": avatar.blob.mime_type,
        "profile_status": profile.validation_status,
        "timeline": len(timeline.feed),
        "preferences": [p.py_type for p in preferences.preferences],
        "proxied_profile_did": other.did,
    }))


if __name__ == "__main__":
    main(*sys.argv[1:5])
