"""Photos of cases (照片): checked by decoding, re-encoded without EXIF/GPS, stored through
Django's storage API, served only through views that check who may see the case.

Storage. Files go to ``default_storage``: a local folder (``MEDIA_ROOT``, ``var/media`` by
default) unless ``STORAGES["default"]`` says otherwise. For S3-compatible object storage
(AWS S3, MinIO, Aliyun OSS and Tencent COS in S3 mode) install ``django-storages[s3]`` (it
is not a dependency of Minsheng) and set ``MINSHENG_S3_BUCKET`` (with
``MINSHENG_S3_ENDPOINT``, ``MINSHENG_S3_REGION``, ``MINSHENG_S3_ACCESS_KEY`` and
``MINSHENG_S3_SECRET_KEY`` as the service needs): settings then point
``STORAGES["default"]`` at ``storages.backends.s3.S3Storage`` with a private ACL. Or set
``STORAGES["default"]`` yourself in a settings module that imports Minsheng's. Either way
the bucket stays private: the views stream the bytes after their checks, and ``MEDIA_URL``
is never served.

Files and transactions. Storage is not transactional. A photo's files are written just
before its row; if the row cannot be written they are deleted again. If a larger
transaction around it (a public report with several photos) rolls back later, the files
already written stay behind, unreferenced, under random names that nothing serves.
"""
