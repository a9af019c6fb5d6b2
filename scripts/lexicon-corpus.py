#!/usr/bin/env python3
"""Prints a deterministic corpus of app.bsky records as JSON lines: {"name": ..., "record": ...}.

Usage:
    python3 scripts/lexicon-corpus.py | .venv/bin/python scripts/lexicon-verdicts.py

Names are "<kind>/<valid|invalid>/<what>": the middle part is the verdict intended by the
lexicons in Sources/ATLexicon/Resources/lexicons/. Each invalid case starts from a valid record
and breaks exactly one constraint. Some "valid" cases exercise the open parts of the lexicon
language (knownValues, extra fields, unknown $type in an open union), which must be accepted.

Tests/Fixtures/lexicon/record-data-{valid,invalid}.json are not included: every record there
has $type example.lexicon.record, a test lexicon, not an app.bsky/com.atproto record type.

Standard library only, no randomness.
"""

import copy
import json

# --- building blocks -------------------------------------------------------------------------

DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
DID2 = 'did:web:example.com'
CID = 'bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq'  # dag-cbor, sha2-256
IMG_CID = 'bafkreig6oaycgretvc7kqrg34hmgo3tiula2jmauy4q7aqs2ek3n6zx25q'  # raw, sha2-256
VID_CID = 'bafkreiewwbilsgpt7srpzc3jenjxcnvbs6wrhrmdx2yuhdi2clglzgm4ii'
VTT_CID = 'bafkreidyzuaigucbaa76nbiprrmhtxfcfbb3chrtommyuj4ihiehx2t5xq'
POST_URI = f'at://{DID}/app.bsky.feed.post/3k43tv4rft22g'
LIST_URI = f'at://{DID}/app.bsky.graph.list/3k43tv4rft22h'
NOW = '2024-11-24T06:02:00.000Z'
FAMILY = '\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466'  # 1 grapheme, 7 code points, 25 bytes
E_ACUTE = 'e\u0301'  # 1 grapheme, 2 code points, 3 bytes
HEAVY = 'a' + '\u0301' * 10  # 1 grapheme, 11 code points, 21 bytes


def blob(mime='image/jpeg', cid=IMG_CID, size=123456):
    return {'$type': 'blob', 'ref': {'$link': cid}, 'mimeType': mime, 'size': size}


def strong_ref(uri=POST_URI, cid=CID):
    return {'uri': uri, 'cid': cid}


def labels(*vals):
    return {'$type': 'com.atproto.label.defs#selfLabels', 'values': [{'val': v} for v in vals]}


def facet(start, end, *features):
    return {'index': {'byteStart': start, 'byteEnd': end}, 'features': list(features)}


MENTION = {'$type': 'app.bsky.richtext.facet#mention', 'did': DID}
LINK = {'$type': 'app.bsky.richtext.facet#link', 'uri': 'https://example.com/a?b=c#d'}
TAG = {'$type': 'app.bsky.richtext.facet#tag', 'tag': 'atproto'}

IMAGES = {'$type': 'app.bsky.embed.images',
          'images': [{'image': blob(), 'alt': 'a cat', 'aspectRatio': {'width': 4, 'height': 3}}]}
EXTERNAL = {'$type': 'app.bsky.embed.external',
            'external': {'uri': 'https://example.com/article', 'title': 'Title', 'description': 'Desc',
                         'thumb': blob('image/png')}}
RECORD = {'$type': 'app.bsky.embed.record', 'record': strong_ref()}
VIDEO = {'$type': 'app.bsky.embed.video', 'video': blob('video/mp4', VID_CID, 5_000_000), 'alt': 'clip',
         'aspectRatio': {'width': 16, 'height': 9}, 'presentation': 'default',
         'captions': [{'lang': 'en', 'file': blob('text/vtt', VTT_CID, 100)}]}


def rwm(media):
    return {'$type': 'app.bsky.embed.recordWithMedia', 'record': {'record': strong_ref()}, 'media': media}


DELETE = object()  # marker: remove the key instead of setting it


def mutate(record, path, value):
    """A deep copy of `record` with the dotted `path` set to `value` (or removed, for DELETE)."""
    out = copy.deepcopy(record)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split('.')]
    node = out
    for p in parents:
        node = node[p]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return out


CASES = []


def valid(name, record):
    CASES.append((name.replace('/', '/valid/', 1), record))


def invalid(name, record):
    CASES.append((name.replace('/', '/invalid/', 1), record))


def common_invalid(kind, base, datetime_path='createdAt'):
    """Invalid datetime variants, shared by every record type that has createdAt."""
    invalid(f'{kind}/createdAt-not-datetime', mutate(base, datetime_path, 'yesterday'))
    invalid(f'{kind}/createdAt-no-timezone', mutate(base, datetime_path, '2024-11-24T06:02:00'))
    invalid(f'{kind}/createdAt-impossible-date', mutate(base, datetime_path, '2024-02-30T06:02:00Z'))
    invalid(f'{kind}/createdAt-wrong-type', mutate(base, datetime_path, 1732428120))


# --- app.bsky.feed.post -------------------------------------------------------------------------

post = {'$type': 'app.bsky.feed.post', 'text': 'hello @alice.test https://example.com #atproto', 'createdAt': NOW}
full_post = dict(post, langs=['en', 'pt-BR'], tags=['one', 'two'], labels=labels('nudity'),
                 reply={'root': strong_ref(), 'parent': strong_ref()},
                 facets=[facet(6, 17, MENTION), facet(18, 37, LINK), facet(38, 46, TAG)], embed=IMAGES)

valid('post/minimal', post)
valid('post/full', full_post)
valid('post/empty-text-with-embed', dict(post, text='', embed=IMAGES))
valid('post/embed-images-four', dict(post, embed=mutate(IMAGES, 'images', IMAGES['images'] * 4)))
valid('post/embed-external', dict(post, embed=EXTERNAL))
valid('post/embed-external-no-thumb', dict(post, embed=mutate(EXTERNAL, 'external.thumb', DELETE)))
valid('post/embed-record', dict(post, embed=RECORD))
valid('post/embed-record-with-media-images', dict(post, embed=rwm(IMAGES)))
valid('post/embed-record-with-media-external', dict(post, embed=rwm(EXTERNAL)))
valid('post/embed-video', dict(post, embed=VIDEO))
valid('post/text-300-graphemes', dict(post, text='a' * 300))
valid('post/text-300-combining-graphemes', dict(post, text=E_ACUTE * 300))  # 600 code points, 900 bytes
valid('post/text-120-emoji-3000-bytes', dict(post, text=FAMILY * 120))  # exactly 3000 bytes
valid('post/langs-three', dict(post, langs=['en', 'ja', 'zh-Hant-TW']))
valid('post/tags-eight', dict(post, tags=[f't{i}' for i in range(8)]))
valid('post/createdAt-offset', dict(post, createdAt='2024-11-24T11:32:00+05:30'))
valid('post/createdAt-no-fraction', dict(post, createdAt='2024-11-24T06:02:00Z'))
valid('post/reply-handle-at-uri', dict(post, reply={'root': strong_ref('at://alice.bsky.social/app.bsky.feed.post/3k43tv4rft22g'),
                                                    'parent': strong_ref()}))
valid('post/facet-tag-64-graphemes', dict(post, facets=[facet(0, 5, dict(TAG, tag='x' * 64))]))
valid('post/extra-field', dict(post, via='my custom client'))
valid('post/embed-unknown-type', dict(post, embed={'$type': 'com.example.embed.poll', 'options': ['a', 'b']}))
valid('post/facet-unknown-feature-type', dict(post, facets=[facet(0, 5, {'$type': 'com.example.facet#bold'})]))
valid('post/video-presentation-unknown-value', dict(post, embed=dict(VIDEO, presentation='slideshow')))
valid('post/label-unknown-value', dict(post, labels=labels('my-custom-label')))
valid('post/entities-deprecated', dict(post, entities=[{'index': {'start': 0, 'end': 5}, 'type': 'link', 'value': 'x'}]))

invalid('post/missing-text', mutate(post, 'text', DELETE))
invalid('post/missing-createdAt', mutate(post, 'createdAt', DELETE))
invalid('post/text-wrong-type', mutate(post, 'text', 42))
invalid('post/text-null', mutate(post, 'text', None))
invalid('post/text-too-many-graphemes', mutate(post, 'text', 'a' * 301))  # 301 bytes: only maxGraphemes
invalid('post/text-too-long-bytes-emoji', mutate(post, 'text', FAMILY * 121))  # 121 graphemes, 847 cp, 3025 bytes
invalid('post/text-too-long-bytes-combining', mutate(post, 'text', HEAVY * 280))  # 280 graphemes, 3080 cp, 5880 bytes
common_invalid('post', post)
invalid('post/langs-too-many', mutate(post, 'langs', ['en', 'fr', 'de', 'es']))
invalid('post/langs-bad-format', mutate(post, 'langs', ['en_US']))
invalid('post/langs-not-array', mutate(post, 'langs', 'en'))
invalid('post/tags-too-many', mutate(post, 'tags', [f't{i}' for i in range(9)]))
invalid('post/tags-item-too-many-graphemes', mutate(post, 'tags', ['x' * 65]))
invalid('post/tags-item-too-long-bytes', mutate(post, 'tags', [FAMILY * 26]))  # 26 graphemes, 650 bytes
invalid('post/labels-too-many', mutate(post, 'labels', labels(*[f'l{i}' for i in range(11)])))
invalid('post/labels-val-too-long', mutate(post, 'labels', labels('v' * 129)))
invalid('post/labels-missing-type', mutate(post, 'labels', {'values': [{'val': 'nudity'}]}))
invalid('post/reply-missing-root', mutate(full_post, 'reply.root', DELETE))
invalid('post/reply-parent-bad-at-uri', mutate(full_post, 'reply.parent.uri', 'https://bsky.app/profile/x/post/y'))
invalid('post/reply-parent-bad-handle-in-at-uri', mutate(full_post, 'reply.parent.uri', 'at://-bad-.example/app.bsky.feed.post/3k'))
invalid('post/reply-root-bad-cid', mutate(full_post, 'reply.root.cid', 'bafy'))
invalid('post/reply-root-cid-not-a-cid', mutate(full_post, 'reply.root.cid', 'notacidbutalphanumeric'))
invalid('post/reply-root-missing-cid', mutate(full_post, 'reply.root.cid', DELETE))
invalid('post/facet-byteStart-negative', mutate(full_post, 'facets.0.index.byteStart', -1))
invalid('post/facet-byteEnd-float', mutate(full_post, 'facets.0.index.byteEnd', 17.5))
invalid('post/facet-byteEnd-string', mutate(full_post, 'facets.0.index.byteEnd', '17'))
invalid('post/facet-missing-index', mutate(full_post, 'facets.0.index', DELETE))
invalid('post/facet-features-not-array', mutate(full_post, 'facets.0.features', MENTION))
invalid('post/facet-mention-bad-did', mutate(full_post, 'facets.0.features.0.did', 'alice.bsky.social'))
invalid('post/facet-mention-did-uppercase-method', mutate(full_post, 'facets.0.features.0.did', 'did:PLC:abc'))
invalid('post/facet-link-bad-uri', mutate(full_post, 'facets.1.features.0.uri', 'example.com/no scheme'))
invalid('post/facet-tag-too-many-graphemes', mutate(full_post, 'facets.2.features.0.tag', 'x' * 65))
invalid('post/facet-tag-too-long-bytes', mutate(full_post, 'facets.2.features.0.tag', FAMILY * 26))
invalid('post/facet-feature-missing-type', mutate(full_post, 'facets.0.features.0', {'did': DID}))
invalid('post/embed-not-object', mutate(post, 'embed', 'app.bsky.embed.images'))
invalid('post/embed-missing-type', mutate(post, 'embed', {'images': IMAGES['images']}))
invalid('post/embed-images-too-many', dict(post, embed=mutate(IMAGES, 'images', IMAGES['images'] * 5)))
invalid('post/embed-images-missing-alt', dict(post, embed=mutate(IMAGES, 'images.0.alt', DELETE)))
invalid('post/embed-images-alt-wrong-type', dict(post, embed=mutate(IMAGES, 'images.0.alt', ['a'])))
invalid('post/embed-images-missing-image', dict(post, embed=mutate(IMAGES, 'images.0.image', DELETE)))
invalid('post/embed-images-blob-bad-mime', dict(post, embed=mutate(IMAGES, 'images.0.image.mimeType', 'application/pdf')))
invalid('post/embed-images-blob-missing-ref', dict(post, embed=mutate(IMAGES, 'images.0.image.ref', DELETE)))
invalid('post/embed-images-blob-size-string', dict(post, embed=mutate(IMAGES, 'images.0.image.size', '123456')))
invalid('post/embed-images-blob-too-big', dict(post, embed=mutate(IMAGES, 'images.0.image.size', 2_000_001)))
invalid('post/embed-images-blob-ref-not-cid', dict(post, embed=mutate(IMAGES, 'images.0.image.ref.$link', 'not a cid')))
invalid('post/embed-images-blob-missing-type', dict(post, embed=mutate(IMAGES, 'images.0.image.$type', DELETE)))
invalid('post/embed-images-aspect-ratio-zero', dict(post, embed=mutate(IMAGES, 'images.0.aspectRatio.width', 0)))
invalid('post/embed-images-aspect-ratio-missing-height', dict(post, embed=mutate(IMAGES, 'images.0.aspectRatio.height', DELETE)))
invalid('post/embed-external-missing-title', dict(post, embed=mutate(EXTERNAL, 'external.title', DELETE)))
invalid('post/embed-external-bad-uri', dict(post, embed=mutate(EXTERNAL, 'external.uri', 'not a uri')))
invalid('post/embed-external-thumb-bad-mime', dict(post, embed=mutate(EXTERNAL, 'external.thumb.mimeType', 'text/html')))
invalid('post/embed-record-bad-at-uri', dict(post, embed=mutate(RECORD, 'record.uri', 'at://')))
invalid('post/embed-record-missing-cid', dict(post, embed=mutate(RECORD, 'record.cid', DELETE)))
invalid('post/embed-record-with-media-missing-media', dict(post, embed=mutate(rwm(IMAGES), 'media', DELETE)))
invalid('post/embed-record-with-media-images-missing-alt', dict(post, embed=mutate(rwm(IMAGES), 'media.images.0.alt', DELETE)))
invalid('post/embed-record-with-media-record-bad-uri', dict(post, embed=mutate(rwm(IMAGES), 'record.record.uri', 'nope')))
invalid('post/embed-video-bad-mime', dict(post, embed=mutate(VIDEO, 'video.mimeType', 'video/webm')))
invalid('post/embed-video-caption-bad-lang', dict(post, embed=mutate(VIDEO, 'captions.0.lang', 'en_US')))
invalid('post/embed-video-caption-bad-mime', dict(post, embed=mutate(VIDEO, 'captions.0.file.mimeType', 'text/plain')))
invalid('post/embed-video-captions-too-many', dict(post, embed=mutate(VIDEO, 'captions', VIDEO['captions'] * 21)))
invalid('post/entities-negative-start', dict(post, entities=[{'index': {'start': -1, 'end': 5}, 'type': 'link', 'value': 'x'}]))

# --- app.bsky.feed.like / app.bsky.feed.repost ---------------------------------------------------

for kind, nsid in (('like', 'app.bsky.feed.like'), ('repost', 'app.bsky.feed.repost')):
    base = {'$type': nsid, 'subject': strong_ref(), 'createdAt': NOW}
    valid(f'{kind}/minimal', base)
    valid(f'{kind}/with-via', dict(base, via=strong_ref(f'at://{DID2}/app.bsky.feed.repost/3k43tv4rft22i')))
    valid(f'{kind}/extra-field', dict(base, note='extra'))
    invalid(f'{kind}/missing-subject', mutate(base, 'subject', DELETE))
    invalid(f'{kind}/missing-createdAt', mutate(base, 'createdAt', DELETE))
    invalid(f'{kind}/subject-is-string', mutate(base, 'subject', POST_URI))
    invalid(f'{kind}/subject-bad-at-uri', mutate(base, 'subject.uri', 'at:/did:plc:x/app.bsky.feed.post/1'))
    invalid(f'{kind}/subject-missing-uri', mutate(base, 'subject.uri', DELETE))
    invalid(f'{kind}/subject-bad-cid', mutate(base, 'subject.cid', 'bafy-rei!'))
    invalid(f'{kind}/via-bad-at-uri', dict(base, via=strong_ref('https://example.com')))
    common_invalid(kind, base)

# --- app.bsky.graph.follow / app.bsky.graph.block ------------------------------------------------

for kind, nsid in (('follow', 'app.bsky.graph.follow'), ('block', 'app.bsky.graph.block')):
    base = {'$type': nsid, 'subject': DID, 'createdAt': NOW}
    valid(f'{kind}/minimal', base)
    valid(f'{kind}/did-web', dict(base, subject=DID2))
    valid(f'{kind}/extra-field', dict(base, reason='spam'))
    invalid(f'{kind}/missing-subject', mutate(base, 'subject', DELETE))
    invalid(f'{kind}/missing-createdAt', mutate(base, 'createdAt', DELETE))
    invalid(f'{kind}/subject-handle-not-did', mutate(base, 'subject', 'alice.bsky.social'))
    invalid(f'{kind}/subject-bad-did', mutate(base, 'subject', 'did:plc'))
    invalid(f'{kind}/subject-did-with-fragment', mutate(base, 'subject', DID + '#atproto'))
    invalid(f'{kind}/subject-wrong-type', mutate(base, 'subject', {'did': DID}))
    common_invalid(kind, base)
follow = {'$type': 'app.bsky.graph.follow', 'subject': DID, 'createdAt': NOW}
valid('follow/with-via', dict(follow, via=strong_ref(f'at://{DID2}/app.bsky.graph.starterpack/3k43tv4rft22j')))
invalid('follow/via-missing-cid', dict(follow, via={'uri': POST_URI}))

# --- app.bsky.graph.list -----------------------------------------------------------------------

lst = {'$type': 'app.bsky.graph.list', 'name': 'Mods', 'purpose': 'app.bsky.graph.defs#modlist', 'createdAt': NOW}
full_list = dict(lst, purpose='app.bsky.graph.defs#curatelist', description='Good people @alice.test',
                 descriptionFacets=[facet(12, 23, MENTION)], avatar=blob('image/png'), labels=labels('spam'))
valid('list/minimal', lst)
valid('list/full', full_list)
valid('list/purpose-unknown-value', dict(lst, purpose='com.example.defs#partylist'))
valid('list/name-64-chars', dict(lst, name='n' * 64))
valid('list/description-300-graphemes', dict(lst, description='d' * 300))
invalid('list/missing-name', mutate(lst, 'name', DELETE))
invalid('list/missing-purpose', mutate(lst, 'purpose', DELETE))
invalid('list/missing-createdAt', mutate(lst, 'createdAt', DELETE))
invalid('list/name-empty', mutate(lst, 'name', ''))
invalid('list/name-too-long', mutate(lst, 'name', 'n' * 65))
invalid('list/name-too-long-bytes', mutate(lst, 'name', '\u20ac' * 22))  # 22 code points, 66 bytes
invalid('list/purpose-wrong-type', mutate(lst, 'purpose', 1))
invalid('list/description-too-many-graphemes', mutate(full_list, 'description', 'd' * 301))
invalid('list/description-too-long-bytes', mutate(full_list, 'description', FAMILY * 121))
invalid('list/avatar-bad-mime', mutate(full_list, 'avatar.mimeType', 'image/gif'))
invalid('list/avatar-too-big', mutate(full_list, 'avatar.size', 1_000_001))
invalid('list/avatar-not-blob', mutate(full_list, 'avatar', 'https://example.com/a.png'))
invalid('list/description-facet-bad-did', mutate(full_list, 'descriptionFacets.0.features.0.did', 'did:'))
common_invalid('list', lst)

# --- app.bsky.graph.listitem -------------------------------------------------------------------

item = {'$type': 'app.bsky.graph.listitem', 'subject': DID2, 'list': LIST_URI, 'createdAt': NOW}
valid('listitem/minimal', item)
valid('listitem/extra-field', dict(item, addedBy=DID))
invalid('listitem/missing-list', mutate(item, 'list', DELETE))
invalid('listitem/missing-subject', mutate(item, 'subject', DELETE))
invalid('listitem/list-bad-at-uri', mutate(item, 'list', 'app.bsky.graph.list/3k43tv4rft22h'))
invalid('listitem/list-at-uri-with-query', mutate(item, 'list', LIST_URI + '?x=1'))
invalid('listitem/subject-bad-did', mutate(item, 'subject', 'did:example'))
common_invalid('listitem', item)

# --- app.bsky.actor.profile --------------------------------------------------------------------

profile = {'$type': 'app.bsky.actor.profile'}
full_profile = dict(profile, displayName='Alice', description='Hi! I post things.', pronouns='she/her',
                    website='https://alice.example.com', avatar=blob('image/jpeg'), banner=blob('image/png'),
                    labels=labels('!no-unauthenticated'), pinnedPost=strong_ref(),
                    joinedViaStarterPack=strong_ref(f'at://{DID2}/app.bsky.graph.starterpack/3k43tv4rft22j'),
                    createdAt=NOW)
valid('profile/empty', profile)
valid('profile/full', full_profile)
valid('profile/extra-field', dict(full_profile, status='away'))
valid('profile/displayName-64-graphemes', dict(profile, displayName=E_ACUTE * 64))  # 128 code points, 192 bytes
invalid('profile/displayName-too-many-graphemes', mutate(full_profile, 'displayName', 'x' * 65))
invalid('profile/displayName-too-long-bytes', mutate(full_profile, 'displayName', FAMILY * 26))  # 650 bytes
invalid('profile/description-too-many-graphemes', mutate(full_profile, 'description', 'd' * 257))
invalid('profile/pronouns-too-many-graphemes', mutate(full_profile, 'pronouns', 'p' * 21))
invalid('profile/pronouns-too-long', mutate(full_profile, 'pronouns', HEAVY * 20))  # 20 graphemes, 220 cp, 420 bytes
invalid('profile/website-bad-uri', mutate(full_profile, 'website', 'alice dot com'))
invalid('profile/website-no-scheme', mutate(full_profile, 'website', 'alice.example.com'))
invalid('profile/avatar-bad-mime', mutate(full_profile, 'avatar.mimeType', 'image/webp'))
invalid('profile/banner-missing-mimeType', mutate(full_profile, 'banner.mimeType', DELETE))
invalid('profile/pinnedPost-bad-at-uri', mutate(full_profile, 'pinnedPost.uri', 'post-123'))
invalid('profile/labels-wrong-type', mutate(full_profile, 'labels', ['spam']))
invalid('profile/displayName-wrong-type', mutate(full_profile, 'displayName', True))
common_invalid('profile', full_profile)

# --- app.bsky.feed.generator -------------------------------------------------------------------

gen = {'$type': 'app.bsky.feed.generator', 'did': DID2, 'displayName': 'Cats', 'createdAt': NOW}
full_gen = dict(gen, description='Only cats #cats', descriptionFacets=[facet(10, 15, dict(TAG, tag='cats'))],
                avatar=blob('image/png'), acceptsInteractions=True, labels=labels('porn'),
                contentMode='app.bsky.feed.defs#contentModeVideo')
valid('generator/minimal', gen)
valid('generator/full', full_gen)
valid('generator/displayName-24-graphemes', dict(gen, displayName=E_ACUTE * 24))
valid('generator/contentMode-unknown-value', dict(gen, contentMode='com.example.defs#contentModeAudio'))
valid('generator/extra-field', dict(gen, owner=DID))
invalid('generator/missing-did', mutate(gen, 'did', DELETE))
invalid('generator/missing-displayName', mutate(gen, 'displayName', DELETE))
invalid('generator/missing-createdAt', mutate(gen, 'createdAt', DELETE))
invalid('generator/did-bad-format', mutate(gen, 'did', 'web:example.com'))
invalid('generator/displayName-too-many-graphemes', mutate(gen, 'displayName', 'c' * 25))
invalid('generator/displayName-too-long-bytes', mutate(gen, 'displayName', FAMILY * 10))  # 250 bytes
invalid('generator/description-too-many-graphemes', mutate(full_gen, 'description', 'd' * 301))
invalid('generator/acceptsInteractions-wrong-type', mutate(full_gen, 'acceptsInteractions', 'yes'))
invalid('generator/avatar-bad-mime', mutate(full_gen, 'avatar.mimeType', 'image/svg+xml'))
invalid('generator/contentMode-wrong-type', mutate(full_gen, 'contentMode', 2))
invalid('generator/description-facet-negative-end', mutate(full_gen, 'descriptionFacets.0.index.byteEnd', -5))
common_invalid('generator', gen)

# --- app.bsky.feed.threadgate ------------------------------------------------------------------

RULES = [{'$type': 'app.bsky.feed.threadgate#mentionRule'}, {'$type': 'app.bsky.feed.threadgate#followerRule'},
         {'$type': 'app.bsky.feed.threadgate#followingRule'},
         {'$type': 'app.bsky.feed.threadgate#listRule', 'list': LIST_URI}]
gate = {'$type': 'app.bsky.feed.threadgate', 'post': POST_URI, 'createdAt': NOW}
full_gate = dict(gate, allow=RULES, hiddenReplies=[f'at://{DID2}/app.bsky.feed.post/3k43tv4rft22k'])
valid('threadgate/minimal', gate)
valid('threadgate/full', full_gate)
valid('threadgate/allow-empty', dict(gate, allow=[]))
valid('threadgate/allow-five', dict(gate, allow=RULES + RULES[:1]))
valid('threadgate/allow-unknown-rule-type', dict(gate, allow=[{'$type': 'com.example.threadgate#vipRule'}]))
invalid('threadgate/missing-post', mutate(gate, 'post', DELETE))
invalid('threadgate/missing-createdAt', mutate(gate, 'createdAt', DELETE))
invalid('threadgate/post-bad-at-uri', mutate(gate, 'post', 'https://bsky.app/profile/alice/post/3k'))
invalid('threadgate/allow-too-many', dict(gate, allow=RULES + RULES[:2]))
invalid('threadgate/allow-not-array', dict(gate, allow=RULES[0]))
invalid('threadgate/allow-rule-missing-type', dict(gate, allow=[{'list': LIST_URI}]))
invalid('threadgate/listRule-missing-list', mutate(full_gate, 'allow.3.list', DELETE))
invalid('threadgate/listRule-bad-at-uri', mutate(full_gate, 'allow.3.list', 'list:123'))
invalid('threadgate/hiddenReplies-bad-at-uri', mutate(full_gate, 'hiddenReplies.0', 'not-a-uri'))
invalid('threadgate/hiddenReplies-too-many', dict(gate, hiddenReplies=[POST_URI] * 301))
common_invalid('threadgate', gate)


def main():
    names = [n for n, _ in CASES]
    assert len(names) == len(set(names)), 'case names must be unique'
    for name, record in CASES:
        print(json.dumps({'name': name, 'record': record}, ensure_ascii=False))


if __name__ == '__main__':
    main()
