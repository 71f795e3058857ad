"""The EU Clinical Trials Register plain-text "full trial details" export."""
