"""One module per console page (or group of pages), each an APIRouter under /admin."""
