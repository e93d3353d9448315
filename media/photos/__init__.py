"""Photo inspection without storage (issue 11 §2): what the verification worker runs on the bytes of
an uploaded photo. The type from magic bytes (`detect_type`), the facts a photo states about itself
(`read_facts`: capture time, GPS position and accuracy, camera, orientation), and the derived JPEGs
shared instead of the original (`render_variants`); both from one decode with `inspect_photo`.
Nothing here touches the database, S3 or HTTP.
"""

from media.photos.derived import VARIANTS, render_variants
from media.photos.facts import PhotoFacts, UnreadablePhoto, read_facts
from media.photos.inspection import InspectedPhoto, inspect_photo
from media.photos.sniff import HEAD_BYTES, detect_type
from media.photos.types import PhotoType

__all__ = ["HEAD_BYTES", "VARIANTS", "InspectedPhoto", "PhotoFacts", "PhotoType", "UnreadablePhoto",
           "detect_type", "inspect_photo", "read_facts", "render_variants"]
